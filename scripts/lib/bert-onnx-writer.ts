// The BERT fixtures are the server's own tiny-model generator (src/tiny-models), at whatever size a test or benchmark asks for.
export { writeTinyBertModel, type TinyBertOptions, type TinyBertSummary } from '../../src/tiny-models/bert-model.ts';
export { buildVocab } from '../../src/tiny-models/wordpiece-vocab.ts';
