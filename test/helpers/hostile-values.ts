// Hostile names (traversal, encoded traversal, NUL, over-long, Unicode look-alikes, trailing dot, whitespace) and how a URL carries them.

export interface HostileValue {
  label: string;
  value: string;
}

/** Each value is refused wherever a name goes; the labels say which trick it plays. */
export const HOSTILE_VALUES: readonly HostileValue[] = [
  { label: 'dot-dot', value: '..' },
  { label: 'traversal to /etc/passwd', value: '../../etc/passwd' },
  { label: 'encoded dot-dot', value: '%2e%2e' },
  { label: 'encoded dot-dot-slash', value: '%2e%2e%2f' },
  { label: 'dot-dot inside', value: 'a/../b' },
  { label: 'absolute path', value: '/abs' },
  { label: 'NUL', value: 'a\u0000b' },
  { label: 'encoded NUL', value: 'a%00b' },
  { label: '10,000 characters', value: 'a'.repeat(10_000) },
  { label: 'Cyrillic а (U+0430)', value: 'tinyll\u0430ma' },
  { label: 'fullwidth solidus (U+FF0F)', value: 'org\uFF0Ftiny' },
  { label: 'division slash (U+2215)', value: 'org\u2215tiny' },
  { label: 'RTL override (U+202E)', value: 'tiny\u202Eamall' },
  { label: 'zero-width space (U+200B)', value: 'ti\u200Bny' },
  { label: 'trailing dot', value: 'tiny.' },
  { label: 'leading space', value: ' tiny' },
  { label: 'trailing space', value: 'tiny ' },
  { label: 'tab', value: 'ti\tny' },
  { label: 'newline', value: 'ti\nny' },
];

export interface PathEncoding {
  /** `encoded`: encodeURIComponent, as a client library sends a value; `raw`: the characters as typed into a URL. */
  encoding: 'encoded' | 'raw';
  text: string;
}

/** The forms a value takes in a URL: always encoded; also raw when it is printable ASCII that encoding would change. */
export function urlForms(value: string): PathEncoding[] {
  const encoded = encodeURIComponent(value);
  const forms: PathEncoding[] = [{ encoding: 'encoded', text: encoded }];
  if (/^[\x21-\x7e]+$/.test(value) && encoded !== value) forms.push({ encoding: 'raw', text: value });
  return forms;
}

/** Names hostile values could create if one were used as a path, to look for outside HANGAR_HOME. */
export const TELLTALE_NAMES = ['passwd', 'etc', 'abs', 'b', 'a', '..', 'tiny.', 'org'];
