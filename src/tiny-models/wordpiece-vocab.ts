// The WordPiece vocabulary of the tiny BERT models: specials, characters, common words, optionally padded with synthetic pieces to a real model's size.
import { letterStrings } from './letter-strings.ts';

/** BERT's special tokens, at ids 0-4 in this order. */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

// Common words keep everyday text to whole-word tokens; anything else falls back to letter pieces.
const COMMON_WORDS = `
the of and to in is it you that he was for on are with as his they be at one have this from or had by
not word but what some we can out other were all there when up use your how said an each she which do
their time if will way about many then them write would like so these her long make thing see him two
has look more day could go come did number sound no most people my over know water than call first who
may down side been now find any new work part take get place made live where after back little only
round man year came show every good me give our under name very through just form sentence great think
say help low line differ turn cause much mean before move right boy old too same tell does set three want
air well also play small end put home read hand port large spell add even land here must big high such
follow act why ask men change went light kind off need house picture try us again animal point mother
world near build self earth father head stand own page should country found answer school grow study
still learn plant cover food sun four between state keep eye never last let thought city tree cross farm
hard start might story saw far sea draw left late run while press close night real life few north open
seem together next white children begin got walk example ease paper group always music those both mark
often letter until mile river car feet care second book carry took science eat room friend began idea
fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young
ready above ever red list though feel talk bird soon body dog family direct pose leave song measure door
product black short numeral class wind question happen complete ship area half rock order fire south
problem piece told knew pass since top whole king space heard best hour better true during hundred five
remember step early hold west ground interest reach fast verb sing listen six table travel less morning
ten simple several vowel toward war lay against pattern slow center love person money serve appear road
map rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark machine
note wait plan figure star box noun field rest correct able pound done beauty drive stood contain front
teach week final gave green oh quick develop ocean warm free minute strong special mind behind clear tail
produce fact street inch multiply nothing course stay wheel full force blue object decide surface deep
moon island foot system busy test record boat common gold possible plane stead dry wonder laugh thousand
ago ran check game shape equate hot miss brought heat snow tire bring yes distant fill east paint language
among hello cat bit model server file data vector text search query embed`;

/** Options of {@link buildVocab}. */
export interface VocabOptions {
  /**
   * Exact number of entries. The base vocabulary (about 618 entries) is padded with synthetic pieces: every
   * lowercase string of 2 letters, then 3, and so on in alphabetical order, each as a word and as a `##`
   * continuation, skipping entries already present. Default: no padding (the base vocabulary, unchanged).
   */
  vocabSize?: number;
}

/** The vocabulary in id order: specials, single characters, ## continuations, common words, then any padding. */
export function buildVocab(options: VocabOptions = {}): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const digits = '0123456789'.split('');
  // BertPreTokenizer splits every ASCII punctuation mark into its own word, so each needs an entry.
  const punctuation = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.split('');
  const tokens = [
    ...SPECIAL_TOKENS,
    ...letters,
    ...digits,
    ...punctuation,
    ...letters.map((c) => `##${c}`),
    ...digits.map((c) => `##${c}`),
    ...COMMON_WORDS.split(/\s+/).filter((w) => w.length > 0),
  ];
  const vocab = [...new Set(tokens)];
  if (options.vocabSize === undefined) return vocab;
  return padVocab(vocab, options.vocabSize);
}

/** Pads `vocab` (unique entries) to exactly `size` entries with synthetic word pieces, deterministically. */
function padVocab(vocab: string[], size: number): string[] {
  if (!Number.isSafeInteger(size) || size < vocab.length) {
    throw new Error(`vocabSize must be an integer >= ${vocab.length} (the base vocabulary), got ${size}`);
  }
  const seen = new Set(vocab);
  const out = [...vocab];
  const add = (piece: string): void => {
    if (out.length < size && !seen.has(piece)) {
      seen.add(piece);
      out.push(piece);
    }
  };
  // a-z strings of growing length: "aa", "ab", ..., "zz", "aaa", ...
  for (const piece of letterStrings()) {
    if (out.length >= size) break;
    add(piece);
    add(`##${piece}`);
  }
  return out;
}
