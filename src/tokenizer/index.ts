/**
 * BERT WordPiece tokenizer producing the same ids as Hugging Face's BertTokenizer / BertTokenizerFast.
 *
 * Pipeline (the reference is /work/shared/tools/bert_tokenizer.py, see test/fixtures/tokenizer/generate.py):
 *  1. added/special tokens written literally in the text ("[MASK]", "[SEP]", ...) are split out first,
 *     case-sensitively, leftmost-longest, and map straight to their id (as in HF; `splitSpecialTokens`
 *     turns this off);
 *  2. normalization: drop U+0000, U+FFFD and control characters (general category C*, except \t \n \r);
 *     \t \n \r, ' ' and category Zs become ' '; CJK ideographs get a space on each side; lowercase
 *     (Python `str.lower()` semantics, incl. 'İ' -> 'i̇' and the final-sigma rule); NFD and removal of
 *     Mn marks when stripping accents;
 *  3. pre-tokenization: split on whitespace (Python `str.split()`) and isolate every punctuation character
 *     (ASCII 33-47, 58-64, 91-96, 123-126 and category P*);
 *  4. WordPiece: greedy longest-match-first with the "##" continuation prefix; words longer than
 *     `max_input_chars_per_word` (100) code points, or that cannot be fully matched, become [UNK];
 *  5. post-processing: [CLS] A [SEP] (B [SEP]) with token type 1 on the B segment, truncation as in HF.
 *
 * Known divergences from Hugging Face (documented, deliberate):
 *  - Unicode version: category checks use Node's ICU tables, except that "unassigned" (Cn) is pinned to
 *    Unicode 14.0 (Python 3.11's `unicodedata`, which generated the fixtures): characters first assigned in
 *    Unicode 15+ (e.g. newer emoji such as U+1FAE8) are dropped like the reference does. HF's fast tokenizer
 *    uses the Rust `unicode_categories` tables (older still), HF's slow tokenizer the running Python's.
 *    Two assigned characters changed category between Unicode 14 and Node 20's ICU (Unicode 17) and are
 *    special-cased to the Unicode 14 behaviour: U+0295 'ʕ' (Ll -> Lo; matters for the final sigma) and U+1171E
 *    (Mn -> Mc; stripped as an accent). The fixtures check every code point against Python 3.11; a future
 *    Node/ICU that changes more categories of existing characters could diverge on those characters.
 *  - Lowercasing is Python's `str.lower()` (what the reference and the slow tokenizer do), which applies the
 *    Greek final-sigma rule ('ΑΣ' -> 'ας'); the Rust fast tokenizer lowercases per character ('ασ').
 *    Similarly the reference lowercases before stripping accents while the Rust normalizer strips first;
 *    no character in Unicode 14 gives a different result for the two orders.
 *  - CJK ranges are the reference's (and the slow tokenizer's): 0x2B820-0x2CEAF; the Rust normalizer uses
 *    0x2B920-0x2CEAF (a typo upstream), so U+2B820-U+2B91F are isolated here but not in the fast tokenizer.
 *  - The slow (Python) BertTokenizer of recent transformers versions applies NFC before everything else;
 *    the fast tokenizer and the reference do not, and neither does this implementation.
 *
 * Truncation follows tokenizers' `truncate_encodings` (Rust), which the fast tokenizer uses:
 *  'longest_first' on a pair, with n1 <= n2 the lengths of the shorter and the longer sequence and `budget`
 *  = maxLength minus the special tokens: if n1 + n2 <= budget nothing happens; otherwise the longer one is
 *  cut to max(n1, budget - n1) and, when that is still too long, both are cut to floor(budget / 2) with the
 *  originally longer sequence keeping the extra budget % 2 token (on a tie, the second sequence keeps it).
 *  This differs from the slow tokenizer's historical one-token-at-a-time loop only in which sequence gets
 *  the odd token. 'only_first' / 'only_second' cut the named sequence and throw when it would have to
 *  lose all its tokens (HF raises too). Tokens are removed from the right.
 */
import { LambertError } from '../errors.js';

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second' | false;
export type PaddingStrategy = 'longest' | 'max_length' | false;

export interface TokenizerOptions {
  /** Lowercase the input (default true: "uncased" models). */
  lowercase?: boolean;
  /** NFD-decompose and drop combining marks (Mn). Defaults to `lowercase`, as in HF. */
  stripAccents?: boolean;
  /** Put spaces around CJK ideographs so that each is a word (default true). */
  tokenizeChineseChars?: boolean;
  /** Drop control characters and map whitespace to ' ' (default true; HF `clean_text`). */
  cleanText?: boolean;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  /** WordPiece continuation prefix (default "##"). */
  continuingSubwordPrefix?: string;
  /** Words longer than this many code points become [UNK] (default 100). */
  maxInputCharsPerWord?: number;
  /** Tokenize special tokens written in the text like ordinary text instead of mapping them to their id (default false). */
  splitSpecialTokens?: boolean;
}

export interface EncodeOptions {
  /** Maximum total length including special tokens (default 512). Only used when truncating. */
  maxLength?: number;
  /** Default 'longest_first'. */
  truncation?: TruncationStrategy;
  /** Add [CLS]/[SEP] (default true). */
  addSpecialTokens?: boolean;
}

export interface BatchEncodeOptions extends EncodeOptions {
  /** Default 'longest'. 'max_length' pads to `maxLength` (longer rows, possible with truncation off, are left as they are). */
  padding?: PaddingStrategy;
}

export interface Encoding {
  inputIds: number[];
  tokenTypeIds: number[];
  attentionMask: number[];
}

export interface BatchEncoding {
  inputIds: number[][];
  tokenTypeIds: number[][];
  attentionMask: number[][];
}

export interface DecodeOptions {
  /** Leave out special tokens ([CLS], [SEP], [PAD], [UNK], [MASK]...) (default false). */
  skipSpecialTokens?: boolean;
  /** Undo the spaces before punctuation and contractions (" ." -> ".", " n't" -> "n't"...). Default: the decoder's `cleanup` (true). */
  cleanUpTokenizationSpaces?: boolean;
}

interface AddedToken {
  content: string;
  id: number;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
}

type TemplatePiece =
  | { kind: 'special'; ids: number[]; typeId: number }
  | { kind: 'sequence'; index: 0 | 1; typeId: number };

interface NormalizerConfig {
  cleanText: boolean;
  chinese: boolean;
  lowercase: boolean;
  stripAccents: boolean;
}

interface TokenizerConfig {
  vocab: Map<string, number>;
  unkToken: string;
  prefix: string;
  maxInputChars: number;
  normalizer: NormalizerConfig;
  added: AddedToken[];
  single: TemplatePiece[];
  pair: TemplatePiece[];
  padId: number | null;
  decoderPrefix: string;
  decoderCleanup: boolean;
  /** Do not match special added tokens in the text (HF `split_special_tokens`); they still decode as special. */
  splitSpecialTokens: boolean;
}

interface AddedMatcher {
  re: RegExp;
  byContent: Map<string, AddedToken>;
}

// ---------------------------------------------------------------------------------------------------------
// Unicode classification

// Generated by `python3 test/fixtures/tokenizer/generate.py --unicode-table` (Python 3.11.7).
// Code points unassigned (general category Cn) in Unicode 14.0.0, as "delta+length" pairs in hex: each range
// starts `delta` after the end of the previous one and spans `length` + 1 code points.
const UNASSIGNED_U14 =
  '378+1,7+3,8+0,2+0,15+0,18e+0,27+1,33+1,4+0,38+7,1c+3,7+a,10f+0,3d+1,66+d,3c+1,32+1,10+0,1d+1,2+0,c+4' +
  ',20+0,3+5,ed+0,9+1,3+1,17+0,8+0,2+2,5+1,a+1,3+1,5+7,2+3,3+0,6+1,1a+1,4+0,7+3,3+1,17+0,8+0,3+0,3+0,3+' +
  '1,2+0,6+3,3+1,4+2,2+6,5+0,2+6,12+9,4+0,a+0,4+0,17+0,8+0,3+0,6+1,b+0,4+0,4+1,2+e,5+1,d+6,8+0,4+0,9+1,' +
  '3+1,17+0,8+0,3+0,6+1,a+1,3+1,4+6,4+3,3+0,6+1,13+9,3+0,7+2,4+0,5+2,3+0,2+0,3+2,3+2,4+2,d+3,6+2,4+0,5+' +
  '1,2+5,2+d,16+4,e+0,4+0,18+0,11+1,a+0,4+0,5+6,3+0,4+1,2+1,5+1,b+6,17+0,4+0,18+0,b+0,6+1,a+0,4+0,5+6,3' +
  '+5,3+0,5+1,b+0,3+c,e+0,4+0,34+0,4+0,7+3,11+1,1b+0,4+0,13+2,19+0,a+0,2+1,8+2,2+3,7+0,2+0,9+5,b+1,4+b,' +
  '3b+3,1e+24,3+0,2+0,6+0,19+0,2+0,18+1,6+0,2+0,7+1,b+1,5+1f,49+0,25+3,28+0,25+0,10+0,e+24,c7+0,2+4,2+1' +
  ',17a+0,5+1,8+0,2+0,5+1,2a+0,5+1,22+0,5+1,8+0,2+0,5+1,10+0,3a+0,5+1,44+1,21+2,1b+5,57+1,7+1,29e+2,5a+' +
  '6,17+8,19+8,15+b,e+0,4+0,3+b,5f+1,b+5,b+5,1b+5,5a+6,2c+4,47+9,20+0,d+3,d+3,2+2,2b+1,6+a,2d+3,1b+5,c+' +
  '2,3f+1,42+0,1e+1,c+5,b+5,f+1,20+30,4e+2,30+0,75+7,3d+2,10+2,3d+6,2c+1,c+7,2c+4,217+1,7+1,27+1,7+1,9+' +
  '0,2+0,2+0,2+0,20+1,36+0,10+0,f+1,7+0,14+1,4+0,a+0,66+0,d+1,1c+0,e+2,22+e,22+e,8d+3,298+18,c+14,715+1' +
  ',21+0,15e+4,2e+0,2+4,2+1,39+6,3+d,19+8,8+0,8+0,8+0,8+0,8+0,8+0,8+0,8+0,7f+21,1b+0,5a+b,d7+19,d+3,41+' +
  '0,57+1,68+4,2c+0,5f+0,55+b,30+0,726e+2,38+8,15d+13,b9+7,cc+4,3+0,2+0,6+17,3c+2,b+5,39+7,47+7,d+5,75+' +
  'a,1f+2,4f+0,c+3,22+0,38+8,f+1,b+1,68+17,1d+9,7+1,7+1,7+8,8+0,8+0,3d+3,7f+1,b+5,2ba5+b,18+3,32+3,226f' +
  '+1,6b+25,8+b,6+4,1b+0,6+0,2+0,3+0,3+0,7e+f,1be+1,37+6,2+1f,2b+5,34+0,14+0,5+3,6+0,88+1,2+0,bf+2,7+1,' +
  '7+1,7+1,4+2,8+0,8+9,6+1,d+0,1b+0,14+0,3+0,10+1,f+21,7c+4,4+3,2e+2,59+0,e+2,2+2e,2f+81,1e+2,32+e,1d+3' +
  ',25+8,1f+4,2c+4,1f+0,26+3,f+29,9f+1,b+5,25+3,25+3,29+7,35+a,d+0,10+0,8+0,3+0,c+0,10+0,8+0,3+42,138+8' +
  ',17+9,9+17,7+0,2b+0,a+44,7+1,2+0,2d+0,3+2,2+1,18+0,49+7,a+2f,14+0,3+4,22+2,1c+4,2+3f,39+3,15+1,33+0,' +
  '3+4,9+0,4+0,1e+1,4+3,b+6,a+6,41+1f,28+3,d+8,37+2,1e+1,1c+4,1b+6,5+b,8+4f,4a+36,34+c,34+6,2f+7,b+125,' +
  '20+0,2b+0,4+1,3+4d,29+7,2b+15,1b+25,1d+13,18+8,4f+3,25+8,45+9,2+1,1a+6,b+5,36+0,13+7,28+8,61+0,15+a,' +
  '13+0,2d+40,8+0,2+0,5+0,10+0,c+5,3c+4,b+5,5+0,9+1,3+1,17+0,8+0,3+0,6+0,b+1,3+1,4+1,2+5,2+4,8+1,8+2,6+' +
  '8a,5d+0,6+1d,49+7,b+a5,37+1,27+21,46+a,b+5,e+12,3b+5,b+35,1c+1,10+3,18+b8,3d+63,54+b,9+1,2+1,9+0,3+0' +
  ',1f+0,3+1,d+8,b+45,9+1,2f+1,c+1a,49+7,54+c,4a+106,a+0,2e+0,f+9,1e+2,21+1,17+0,f+48,8+0,3+0,2d+2,2+0,' +
  '3+0,a+7,b+5,7+0,3+0,26+0,3+0,7+6,b+135,1a+b6,2+e,33+c,39c+65,70+0,6+a,c5+a4b,64+c,430+0,a+fc6,248+21' +
  'b8,23a+6,20+0,b+3,52+0,b+5,1f+1,7+9,47+9,b+0,8+0,16+4,14+2af,5c+64,4c+3,3a+6,12+3f,6+a,3+d,17f9+7,4d' +
  '7+29,a+22e6,5+0,8+0,3+0,124+2c,4+10,5+7,18d+903,6c+4,e+2,a+6,b+1,9+125b,2f+1,18+8,75+3b,f7+9,28+1,c3' +
  '+14,47+99,15+b,58+8,1a+86,56+0,48+0,3+1,2+1,3+1,5+0,d+0,2+0,8+0,42+0,5+1,9+0,8+0,1d+0,5+0,6+0,2+2,8+' +
  '0,155+1,125+1,2bf+e,6+0,10+44f,20+e0,8+0,12+1,8+0,3+0,6+d4,2e+2,f+1,b+3,3+13f,20+10,3b+4,2+4df,8+0,5' +
  '+0,3+0,10+0,c6+1,11+28,4d+3,b+3,3+310,45+4b,3e+c1,5+0,1c+0,3+0,2+1,2+0,b+0,5+0,2+0,2+5,2+3,2+0,2+0,2' +
  '+0,4+0,3+0,2+1,2+0,2+0,2+0,2+0,2+0,3+0,2+1,5+0,8+0,5+0,5+0,2+0,b+0,12+4,4+0,6+0,12+33,3+10d,2d+3,65+' +
  'b,10+1,10+0,10+0,26+9,af+37,1e+c,2d+3,a+6,3+d,7+99,3d9+4,11+2,e+2,75+b,5a+6,d+3,2+e,d+3,39+7,b+5,29+' +
  '7,1f+1,3+4d,155+b,f+1,6+2,6+2,8+8,1e+2,c+4,7+9,b+5,9+7,8+8,94+0,38+24,b+405,a6e1+1f,103a+6,df+1,1683' +
  '+d,1d32+c1e,21f+5e1,134c+aecb5,2+1d,61+7f,f1+fe0f,ffff+1,ffff+1';

function decodeRanges(encoded: string): Uint32Array {
  const parts = encoded.split(',');
  const out = new Uint32Array(parts.length * 2);
  let prev = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const plus = part.indexOf('+');
    const start = prev + parseInt(part.slice(0, plus), 16);
    const end = start + parseInt(part.slice(plus + 1), 16);
    out[2 * i] = start;
    out[2 * i + 1] = end;
    prev = end;
  }
  return out;
}

let unassigned: Uint32Array | null = null;

function isUnassignedU14(cp: number): boolean {
  const r = (unassigned ??= decodeRanges(UNASSIGNED_U14));
  let lo = 0;
  let hi = r.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < r[2 * mid]!) hi = mid - 1;
    else if (cp > r[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

const RE_OTHER_ASSIGNED = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}]$/u;
const RE_ZS = /^\p{Zs}$/u;
const RE_P = /^\p{P}$/u;
// U+1171E AHOM VOWEL SIGN AA is Mn in Unicode 14 (Python 3.11) but Mc in Node 20's ICU: keep it in the Mn set.
const RE_MN_ALL = /[\p{Mn}\u{1171E}]/gu;
const RE_CASED = /^\p{Cased}$/u;
const RE_CASE_IGNORABLE = /^\p{Case_Ignorable}$/u;
const RE_WHITE_SPACE = /^\p{White_Space}$/u;
const RE_WORD_CHAR = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

// Classes of a raw input character for the cleanup step.
const RAW_DROP = 1; // U+0000, U+FFFD, category C* (except \t \n \r)
const RAW_SPACE = 2; // \t \n \r ' ' and Zs -> ' '
const RAW_CJK = 3; // surrounded by spaces
const RAW_KEEP = 4;

function computeRawClass(cp: number): number {
  if (cp === 9 || cp === 10 || cp === 13 || cp === 32) return RAW_SPACE;
  if (cp === 0 || cp === 0xfffd) return RAW_DROP;
  const ch = String.fromCodePoint(cp);
  if (isUnassignedU14(cp) || RE_OTHER_ASSIGNED.test(ch)) return RAW_DROP;
  if (isCjk(cp)) return RAW_CJK;
  if (RE_ZS.test(ch)) return RAW_SPACE;
  return RAW_KEEP;
}

// Classes of a normalized character for pre-tokenization.
const WC_SPACE = 1; // Python str.isspace(): splits words, dropped
const WC_PUNCT = 2; // isolated as its own word
const WC_WORD = 3;

function isPythonSpace(cp: number): boolean {
  return (
    (cp >= 9 && cp <= 13) ||
    (cp >= 0x1c && cp <= 0x20) ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

function computeWordClass(cp: number): number {
  if (isPythonSpace(cp)) return WC_SPACE;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return WC_PUNCT;
  }
  if (cp < 128) return WC_WORD;
  return RE_P.test(String.fromCodePoint(cp)) ? WC_PUNCT : WC_WORD;
}

// Lazily filled caches for the BMP (0 = not computed yet); astral code points are classified on the fly.
const rawClassCache = new Uint8Array(0x10000);
const wordClassCache = new Uint8Array(0x10000);

function rawClass(cp: number): number {
  if (cp < 0x10000) {
    let c = rawClassCache[cp]!;
    if (c === 0) rawClassCache[cp] = c = computeRawClass(cp);
    return c;
  }
  return computeRawClass(cp);
}

function wordClass(cp: number): number {
  if (cp < 0x10000) {
    let c = wordClassCache[cp]!;
    if (c === 0) wordClassCache[cp] = c = computeWordClass(cp);
    return c;
  }
  return computeWordClass(cp);
}

function isWhiteSpaceCp(cp: number): boolean {
  return RE_WHITE_SPACE.test(String.fromCodePoint(cp));
}

function isWordCharCp(cp: number): boolean {
  return RE_WORD_CHAR.test(String.fromCodePoint(cp));
}

/** Code point at UTF-16 index i (a lone surrogate is returned as itself). */
function codePointAt(s: string, i: number): number {
  return s.codePointAt(i)!;
}

/** The code point that ends just before UTF-16 index i (i > 0). */
function codePointBefore(s: string, i: number): number {
  const c = s.charCodeAt(i - 1);
  if (c >= 0xdc00 && c <= 0xdfff && i >= 2) {
    const h = s.charCodeAt(i - 2);
    if (h >= 0xd800 && h <= 0xdbff) return ((h - 0xd800) << 10) + (c - 0xdc00) + 0x10000;
  }
  return c;
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Python's `str.lower()`. JS `toLowerCase()` applies the same full case mappings and the same Final_Sigma rule
 * (checked for every code point), except that two characters changed properties after Unicode 14: U+0295 'ʕ'
 * (cased in Unicode 14, Lo since) and U+1171E (case-ignorable as Mn in Unicode 14, Mc since). Only the choice
 * between 'σ' and 'ς' can depend on them, so only text containing 'Σ' and one of them takes the slow path.
 */
function pythonLower(s: string): string {
  if (!s.includes('\u03a3') || !(s.includes('\u0295') || s.includes('\u{1171e}'))) return s.toLowerCase();
  const cps = Array.from(s);
  const isCased = (c: string): boolean => c === '\u0295' || (c !== '\u{1171e}' && RE_CASED.test(c));
  const isIgnorable = (c: string): boolean => c === '\u{1171e}' || (c !== '\u0295' && RE_CASE_IGNORABLE.test(c));
  let out = '';
  let segStart = 0;
  for (let i = 0; i < cps.length; i++) {
    if (cps[i] !== '\u03a3') continue;
    // CPython's handle_capital_sigma: \p{cased} \p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased})
    let j = i - 1;
    while (j >= 0 && isIgnorable(cps[j]!)) j--;
    let final = j >= 0 && isCased(cps[j]!);
    if (final) {
      let k = i + 1;
      while (k < cps.length && isIgnorable(cps[k]!)) k++;
      final = k === cps.length || !isCased(cps[k]!);
    }
    // Segments without 'Σ' have no context-dependent mappings in the root locale.
    out += cps.slice(segStart, i).join('').toLowerCase() + (final ? '\u03c2' : '\u03c3');
    segStart = i + 1;
  }
  return out + cps.slice(segStart).join('').toLowerCase();
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** transformers' `clean_up_tokenization`. */
function cleanUpTokenization(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

function invalid(message: string): LambertError {
  return new LambertError('INVALID_ARGUMENT', message);
}

// ---------------------------------------------------------------------------------------------------------

export class Tokenizer {
  private readonly vocab: Map<string, number>;
  private readonly idToTokenTable: (string | undefined)[];
  private readonly unkId: number;
  private readonly prefix: string;
  private readonly maxInputChars: number;
  private readonly maxTokenLength: number;
  private readonly norm: NormalizerConfig;
  private readonly addedByContent: Map<string, AddedToken>;
  private readonly addedById: Map<number, AddedToken>;
  private readonly rawMatcher: AddedMatcher | null;
  private readonly normalizedMatcher: AddedMatcher | null;
  private readonly single: TemplatePiece[];
  private readonly pair: TemplatePiece[];
  private readonly padId: number | null;
  private readonly decoderPrefix: string;
  private readonly decoderCleanup: boolean;

  private constructor(config: TokenizerConfig) {
    this.vocab = config.vocab;
    this.prefix = config.prefix;
    this.maxInputChars = config.maxInputChars;
    this.norm = config.normalizer;
    this.single = config.single;
    this.pair = config.pair;
    this.padId = config.padId;
    this.decoderPrefix = config.decoderPrefix;
    this.decoderCleanup = config.decoderCleanup;

    const unk = config.vocab.get(config.unkToken);
    if (unk === undefined) {
      throw invalid(`tokenizer: the unknown token ${JSON.stringify(config.unkToken)} is not in the vocabulary`);
    }
    this.unkId = unk;

    let maxLen = 0;
    let maxId = -1;
    for (const [token, id] of config.vocab) {
      if (token.length > maxLen) maxLen = token.length;
      if (id > maxId) maxId = id;
    }
    this.maxTokenLength = maxLen;

    this.addedByContent = new Map();
    this.addedById = new Map();
    for (const t of config.added) {
      if (t.content === '') continue;
      this.addedByContent.set(t.content, t);
      this.addedById.set(t.id, t);
      if (t.id > maxId) maxId = t.id;
    }
    const table: (string | undefined)[] = new Array(maxId + 1);
    for (const [token, id] of config.vocab) table[id] = token;
    for (const [id, t] of this.addedById) table[id] = t.content;
    this.idToTokenTable = table;

    const matchable = [...this.addedByContent.values()].filter((t) => !(config.splitSpecialTokens && t.special));
    const raw = matchable.filter((t) => !t.normalized);
    this.rawMatcher = raw.length ? this.buildMatcher(raw.map((t) => [t.content, t])) : null;
    const normalized = matchable.filter((t) => t.normalized);
    this.normalizedMatcher = normalized.length
      ? this.buildMatcher(normalized.map((t) => [this.normalize(t.content), t]))
      : null;
  }

  /**
   * Builds a tokenizer from a BERT `vocab.txt` (one token per line, id = line number).
   * [UNK], [CLS], [SEP], [PAD] and [MASK] (or the given names) are special tokens; [UNK], [CLS] and [SEP] must exist.
   */
  static fromVocab(vocabText: string, options: TokenizerOptions = {}): Tokenizer {
    if (typeof vocabText !== 'string') throw invalid('Tokenizer.fromVocab: vocabText must be a string');
    // Python's universal-newline line iteration + rstrip("\n"), as HF's load_vocab.
    const lines = vocabText.split(/\r\n|\r|\n/);
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    const vocab = new Map<string, number>();
    lines.forEach((token, i) => vocab.set(token, i));

    const lowercase = options.lowercase ?? true;
    const unkToken = options.unkToken ?? '[UNK]';
    const clsToken = options.clsToken ?? '[CLS]';
    const sepToken = options.sepToken ?? '[SEP]';
    const padToken = options.padToken ?? '[PAD]';
    const maskToken = options.maskToken ?? '[MASK]';
    const cls = vocab.get(clsToken);
    const sep = vocab.get(sepToken);
    if (vocab.get(unkToken) === undefined) throw invalid(`Tokenizer.fromVocab: ${unkToken} is not in the vocabulary`);
    if (cls === undefined) throw invalid(`Tokenizer.fromVocab: ${clsToken} is not in the vocabulary`);
    if (sep === undefined) throw invalid(`Tokenizer.fromVocab: ${sepToken} is not in the vocabulary`);
    const maxInputChars = options.maxInputCharsPerWord ?? 100;
    if (!Number.isInteger(maxInputChars) || maxInputChars < 0) {
      throw invalid('Tokenizer.fromVocab: maxInputCharsPerWord must be a non-negative integer');
    }

    const added: AddedToken[] = [];
    for (const content of [padToken, unkToken, clsToken, sepToken, maskToken]) {
      const id = vocab.get(content);
      if (id === undefined || content === '') continue;
      added.push({ content, id, special: true, normalized: false, lstrip: false, rstrip: false, singleWord: false });
    }
    return new Tokenizer({
      vocab,
      unkToken,
      prefix: options.continuingSubwordPrefix ?? '##',
      maxInputChars,
      normalizer: {
        cleanText: options.cleanText ?? true,
        chinese: options.tokenizeChineseChars ?? true,
        lowercase,
        stripAccents: options.stripAccents ?? lowercase,
      },
      added,
      single: bertTemplate(cls, sep, false),
      pair: bertTemplate(cls, sep, true),
      padId: vocab.get(padToken) ?? null,
      decoderPrefix: options.continuingSubwordPrefix ?? '##',
      decoderCleanup: true,
      splitSpecialTokens: options.splitSpecialTokens ?? false,
    });
  }

  /**
   * Builds a tokenizer from a Hugging Face `tokenizer.json` (string or parsed object). Supported: BertNormalizer,
   * BertPreTokenizer, WordPiece model, TemplateProcessing or BertProcessing post-processor, WordPiece (or no)
   * decoder. Anything else throws a LambertError('INVALID_ARGUMENT').
   */
  static fromJSON(tokenizerJson: string | object, options: { splitSpecialTokens?: boolean } = {}): Tokenizer {
    let json: unknown = tokenizerJson;
    if (typeof json === 'string') {
      try {
        json = JSON.parse(json);
      } catch (err) {
        throw new LambertError('INVALID_ARGUMENT', `tokenizer.json: not valid JSON (${(err as Error).message})`, {
          cause: err,
        });
      }
    }
    if (!isObject(json)) throw invalid('tokenizer.json: expected a JSON object');

    // model
    const model = json['model'];
    if (!isObject(model)) throw invalid('tokenizer.json: missing "model"');
    if (model['type'] !== 'WordPiece' && !(model['type'] === undefined && 'continuing_subword_prefix' in model)) {
      throw invalid(`tokenizer.json: unsupported model type ${JSON.stringify(model['type'])} (only WordPiece)`);
    }
    const vocabObj = model['vocab'];
    if (!isObject(vocabObj)) throw invalid('tokenizer.json: model.vocab must be an object of token -> id');
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(vocabObj)) {
      if (!isNonNegInt(id)) throw invalid(`tokenizer.json: model.vocab[${JSON.stringify(token)}] is not a valid id`);
      vocab.set(token, id);
    }
    const unkToken = optionalString(model, 'unk_token', 'model') ?? '[UNK]';
    const prefix = optionalString(model, 'continuing_subword_prefix', 'model') ?? '##';
    const maxInputChars = model['max_input_chars_per_word'] ?? 100;
    if (!isNonNegInt(maxInputChars)) throw invalid('tokenizer.json: model.max_input_chars_per_word must be an integer');

    // normalizer
    const normalizer = json['normalizer'];
    if (!isObject(normalizer) || normalizer['type'] !== 'BertNormalizer') {
      throw invalid(
        `tokenizer.json: unsupported normalizer ${describeType(normalizer)} (only BertNormalizer is supported)`,
      );
    }
    const lowercase = optionalBool(normalizer, 'lowercase', 'normalizer') ?? true;
    const stripAccentsRaw = normalizer['strip_accents'];
    if (stripAccentsRaw !== null && stripAccentsRaw !== undefined && typeof stripAccentsRaw !== 'boolean') {
      throw invalid('tokenizer.json: normalizer.strip_accents must be a boolean or null');
    }
    const normConfig: NormalizerConfig = {
      cleanText: optionalBool(normalizer, 'clean_text', 'normalizer') ?? true,
      chinese: optionalBool(normalizer, 'handle_chinese_chars', 'normalizer') ?? true,
      lowercase,
      stripAccents: stripAccentsRaw ?? lowercase,
    };

    // pre-tokenizer
    const pre = json['pre_tokenizer'];
    if (!isObject(pre) || pre['type'] !== 'BertPreTokenizer') {
      throw invalid(`tokenizer.json: unsupported pre_tokenizer ${describeType(pre)} (only BertPreTokenizer)`);
    }

    // added tokens
    const added: AddedToken[] = [];
    const addedJson = json['added_tokens'] ?? [];
    if (!Array.isArray(addedJson)) throw invalid('tokenizer.json: added_tokens must be an array');
    for (const t of addedJson) {
      if (!isObject(t) || typeof t['content'] !== 'string' || !isNonNegInt(t['id'])) {
        throw invalid(`tokenizer.json: invalid added token ${JSON.stringify(t)}`);
      }
      const special = t['special'] === true;
      added.push({
        content: t['content'],
        id: t['id'],
        special,
        normalized: typeof t['normalized'] === 'boolean' ? t['normalized'] : !special,
        lstrip: t['lstrip'] === true,
        rstrip: t['rstrip'] === true,
        singleWord: t['single_word'] === true,
      });
    }
    const lookup = (token: string): number | undefined =>
      added.find((t) => t.content === token)?.id ?? vocab.get(token);

    // post-processor
    const post = json['post_processor'];
    let single: TemplatePiece[];
    let pair: TemplatePiece[];
    if (isObject(post) && post['type'] === 'BertProcessing') {
      const cls = tokenIdPair(post['cls'], 'cls');
      const sep = tokenIdPair(post['sep'], 'sep');
      single = bertTemplate(cls, sep, false);
      pair = bertTemplate(cls, sep, true);
    } else if (isObject(post) && post['type'] === 'TemplateProcessing') {
      const specials = post['special_tokens'];
      if (!isObject(specials)) throw invalid('tokenizer.json: post_processor.special_tokens must be an object');
      single = parseTemplate(post['single'], specials, false);
      pair = parseTemplate(post['pair'], specials, true);
    } else {
      throw invalid(
        `tokenizer.json: unsupported post_processor ${describeType(post)} (only TemplateProcessing or BertProcessing)`,
      );
    }

    // decoder
    const decoder = json['decoder'];
    let decoderPrefix = prefix;
    let decoderCleanup = true;
    if (decoder !== null && decoder !== undefined) {
      if (!isObject(decoder) || decoder['type'] !== 'WordPiece') {
        throw invalid(`tokenizer.json: unsupported decoder ${describeType(decoder)} (only WordPiece)`);
      }
      decoderPrefix = optionalString(decoder, 'prefix', 'decoder') ?? '##';
      decoderCleanup = optionalBool(decoder, 'cleanup', 'decoder') ?? true;
    }

    // padding id: the "padding" section if any, else [PAD]
    let padId: number | null = lookup('[PAD]') ?? null;
    const padding = json['padding'];
    if (isObject(padding) && isNonNegInt(padding['pad_id'])) padId = padding['pad_id'];

    return new Tokenizer({
      vocab,
      unkToken,
      prefix,
      maxInputChars,
      normalizer: normConfig,
      added,
      single,
      pair,
      padId,
      decoderPrefix,
      decoderCleanup,
      splitSpecialTokens: options.splitSpecialTokens ?? false,
    });
  }

  /** Number of ids: the largest id (vocabulary or added token) + 1. 30522 for bert-base-uncased. */
  get vocabSize(): number {
    return this.idToTokenTable.length;
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? this.idToTokenTable[id] : undefined;
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.vocab.get(token);
  }

  /** The normalized, pre-tokenized words (before WordPiece); added tokens appear as their content. */
  basicTokenize(text: string): string[] {
    const words: string[] = [];
    this.process(
      checkText(text),
      (w) => words.push(w),
      (t) => words.push(t.content),
    );
    return words;
  }

  /** WordPiece tokens (no [CLS]/[SEP]), e.g. "unaffable" -> ["una", "##ffa", "##ble"]. */
  tokenize(text: string): string[] {
    return this.textToIds(checkText(text)).map((id) => this.idToTokenTable[id]!);
  }

  /** Encodes one text or a pair: [CLS] a [SEP] (b [SEP]), token types 0 for a, 1 for b. */
  encode(text: string, pair?: string | null, options: EncodeOptions = {}): Encoding {
    const a = this.textToIds(checkText(text));
    const b = pair === undefined || pair === null ? null : this.textToIds(checkText(pair));
    return this.postProcess(a, b, options);
  }

  /** Encodes several texts or pairs and pads them (default: to the longest row) with [PAD] / mask 0 / type 0. */
  encodeBatch(texts: readonly string[] | readonly (readonly [string, string])[], options: BatchEncodeOptions = {}): BatchEncoding {
    if (!Array.isArray(texts)) throw invalid('encodeBatch: texts must be an array');
    const padding = options.padding ?? 'longest';
    if (padding !== 'longest' && padding !== 'max_length' && padding !== false) {
      throw invalid(`encodeBatch: unknown padding ${JSON.stringify(padding)}`);
    }
    const encodings = (texts as readonly unknown[]).map((item, i) => {
      if (typeof item === 'string') return this.encode(item, null, options);
      if (Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && typeof item[1] === 'string') {
        return this.encode(item[0], item[1], options);
      }
      throw invalid(`encodeBatch: texts[${i}] must be a string or a [string, string] pair`);
    });
    let target = 0;
    if (padding === 'longest') {
      for (const e of encodings) target = Math.max(target, e.inputIds.length);
    } else if (padding === 'max_length') {
      target = checkMaxLength(options.maxLength);
    }
    const out: BatchEncoding = { inputIds: [], tokenTypeIds: [], attentionMask: [] };
    for (const e of encodings) {
      const missing = target - e.inputIds.length;
      if (missing > 0) {
        if (this.padId === null) throw invalid('encodeBatch: padding needs a [PAD] token, which this vocabulary lacks');
        for (let k = 0; k < missing; k++) {
          e.inputIds.push(this.padId);
          e.tokenTypeIds.push(0);
          e.attentionMask.push(0);
        }
      }
      out.inputIds.push(e.inputIds);
      out.tokenTypeIds.push(e.tokenTypeIds);
      out.attentionMask.push(e.attentionMask);
    }
    return out;
  }

  /**
   * Ids back to text, as HF's WordPiece decoder: tokens joined by spaces, "##" pieces glued to the previous
   * token, then (by default) the clean-up of spaces before punctuation. Unknown ids are skipped.
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    const cleanup = options.cleanUpTokenizationSpaces ?? this.decoderCleanup;
    const parts: string[] = [];
    let first = true;
    for (const id of ids) {
      const token = this.idToToken(id);
      if (token === undefined) continue;
      if (skip && this.addedById.get(id)?.special) continue;
      if (first) {
        parts.push(token);
        first = false;
      } else if (this.decoderPrefix !== '' && token.startsWith(this.decoderPrefix)) {
        parts.push(token.slice(this.decoderPrefix.length));
      } else {
        parts.push(' ', token);
      }
    }
    const text = parts.join('');
    return cleanup ? cleanUpTokenization(text) : text;
  }

  // -------------------------------------------------------------------------------------------------------

  private textToIds(text: string): number[] {
    const ids: number[] = [];
    this.process(
      text,
      (w) => this.wordPiece(w, ids),
      (t) => ids.push(t.id),
    );
    return ids;
  }

  /** Splits out added tokens, normalizes and pre-tokenizes the rest; calls back in text order. */
  private process(text: string, onWord: (word: string) => void, onAdded: (token: AddedToken) => void): void {
    const handleNormalized = (normalized: string): void => {
      if (this.normalizedMatcher === null) {
        this.preTokenize(normalized, onWord);
        return;
      }
      for (const piece of splitOnAdded(normalized, this.normalizedMatcher)) {
        if (typeof piece === 'string') this.preTokenize(piece, onWord);
        else onAdded(piece);
      }
    };
    if (this.rawMatcher === null) {
      handleNormalized(this.normalize(text));
      return;
    }
    for (const piece of splitOnAdded(text, this.rawMatcher)) {
      if (typeof piece === 'string') handleNormalized(this.normalize(piece));
      else onAdded(piece);
    }
  }

  /** BertNormalizer: cleanup, CJK spacing, lowercase, accent stripping. */
  private normalize(text: string): string {
    const { cleanText, chinese, lowercase, stripAccents } = this.norm;
    let out = '';
    let runStart = 0;
    const n = text.length;
    for (let i = 0; i < n; ) {
      const cp = codePointAt(text, i);
      const len = cp > 0xffff ? 2 : 1;
      if (cp !== 32) {
        const cls = rawClass(cp);
        let replacement: string | null = null;
        if (cls === RAW_DROP) {
          if (cleanText) replacement = '';
        } else if (cls === RAW_SPACE) {
          if (cleanText) replacement = ' ';
        } else if (cls === RAW_CJK) {
          if (chinese) replacement = ' ' + text.slice(i, i + len) + ' ';
        }
        if (replacement !== null) {
          out += text.slice(runStart, i) + replacement;
          runStart = i + len;
        }
      }
      i += len;
    }
    out = runStart === 0 ? text : out + text.slice(runStart);
    if (lowercase) out = pythonLower(out);
    if (stripAccents) out = out.normalize('NFD').replace(RE_MN_ALL, '');
    return out;
  }

  /** BertPreTokenizer: whitespace split + punctuation isolation, feeding each word to `onWord`. */
  private preTokenize(s: string, onWord: (word: string) => void): void {
    let wordStart = -1;
    const n = s.length;
    for (let i = 0; i < n; ) {
      const cp = codePointAt(s, i);
      const len = cp > 0xffff ? 2 : 1;
      const cls = wordClass(cp);
      if (cls === WC_WORD) {
        if (wordStart < 0) wordStart = i;
      } else {
        if (wordStart >= 0) {
          onWord(s.slice(wordStart, i));
          wordStart = -1;
        }
        if (cls === WC_PUNCT) onWord(s.slice(i, i + len));
      }
      i += len;
    }
    if (wordStart >= 0) onWord(wordStart === 0 ? s : s.slice(wordStart));
  }

  /** Greedy longest-match-first WordPiece; appends ids to `out`. */
  private wordPiece(word: string, out: number[]): void {
    const n = word.length;
    if (n > this.maxInputChars && countCodePoints(word) > this.maxInputChars) {
      out.push(this.unkId);
      return;
    }
    const whole = this.vocab.get(word);
    if (whole !== undefined) {
      out.push(whole);
      return;
    }
    const mark = out.length;
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxTokenLength);
      let found = -1;
      while (start < end) {
        // never cut a surrogate pair (Python slices by code point)
        const c = word.charCodeAt(end - 1);
        if (end < n && c >= 0xd800 && c <= 0xdbff) {
          const d = word.charCodeAt(end);
          if (d >= 0xdc00 && d <= 0xdfff) {
            end--;
            continue;
          }
        }
        const sub = start === 0 ? word.slice(0, end) : this.prefix + word.slice(start, end);
        const id = this.vocab.get(sub);
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) {
        out.length = mark;
        out.push(this.unkId);
        return;
      }
      out.push(found);
      start = end;
    }
  }

  private postProcess(a: number[], b: number[] | null, options: EncodeOptions): Encoding {
    const maxLength = checkMaxLength(options.maxLength);
    const truncation = options.truncation ?? 'longest_first';
    if (truncation !== false && truncation !== 'longest_first' && truncation !== 'only_first' && truncation !== 'only_second') {
      throw invalid(`encode: unknown truncation ${JSON.stringify(truncation)}`);
    }
    const addSpecial = options.addSpecialTokens ?? true;
    const template = b === null ? this.single : this.pair;
    let nSpecial = 0;
    if (addSpecial) for (const p of template) if (p.kind === 'special') nSpecial += p.ids.length;

    if (truncation !== false) {
      const budget = maxLength - nSpecial;
      if (budget < 0) {
        throw invalid(`encode: maxLength ${maxLength} is smaller than the ${nSpecial} special tokens`);
      }
      [a, b] = truncate(a, b, budget, truncation);
    }

    const inputIds: number[] = [];
    const tokenTypeIds: number[] = [];
    for (const p of template) {
      if (p.kind === 'special') {
        if (!addSpecial) continue;
        for (const id of p.ids) {
          inputIds.push(id);
          tokenTypeIds.push(p.typeId);
        }
      } else {
        const seq = p.index === 0 ? a : b!;
        for (const id of seq) {
          inputIds.push(id);
          tokenTypeIds.push(p.typeId);
        }
      }
    }
    return { inputIds, tokenTypeIds, attentionMask: new Array<number>(inputIds.length).fill(1) };
  }

  private buildMatcher(entries: [string, AddedToken][]): AddedMatcher | null {
    const byContent = new Map<string, AddedToken>();
    for (const [content, token] of entries) if (content !== '' && !byContent.has(content)) byContent.set(content, token);
    if (byContent.size === 0) return null;
    // Alternation tries longer patterns first: leftmost-longest, like HF's aho-corasick matcher.
    const patterns = [...byContent.keys()].sort((x, y) => y.length - x.length).map(escapeRegExp);
    return { re: new RegExp(patterns.join('|'), 'g'), byContent };
  }
}

// ---------------------------------------------------------------------------------------------------------

/** HF tokenizers' AddedVocabulary::find_matches: pieces of `s`, strings or matched added tokens. */
function splitOnAdded(s: string, matcher: AddedMatcher): (string | AddedToken)[] {
  const out: (string | AddedToken)[] = [];
  const re = matcher.re;
  re.lastIndex = 0;
  let offset = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    let start = m.index;
    let stop = start + m[0].length;
    const token = matcher.byContent.get(m[0])!;
    if (token.singleWord) {
      const startOk = start === 0 || !isWordCharCp(codePointBefore(s, start));
      const stopOk = stop === s.length || !isWordCharCp(codePointAt(s, stop));
      if (!startOk || !stopOk) continue;
    }
    if (token.lstrip) {
      let k = start;
      while (k > 0 && isWhiteSpaceCp(codePointBefore(s, k))) k -= codePointBefore(s, k) > 0xffff ? 2 : 1;
      start = Math.max(k, offset);
    }
    if (token.rstrip) {
      while (stop < s.length && isWhiteSpaceCp(codePointAt(s, stop))) stop += codePointAt(s, stop) > 0xffff ? 2 : 1;
    }
    if (offset < start) out.push(s.slice(offset, start));
    out.push(token);
    offset = stop;
  }
  if (offset < s.length) out.push(offset === 0 ? s : s.slice(offset));
  return out;
}

/** tokenizers' truncate_encodings (Rust), right side, no stride. `budget` excludes special tokens. */
function truncate(
  a: number[],
  b: number[] | null,
  budget: number,
  strategy: Exclude<TruncationStrategy, false>,
): [number[], number[] | null] {
  const total = a.length + (b ? b.length : 0);
  if (total <= budget) return [a, b];
  if (budget === 0) return [[], b ? [] : null];
  if (strategy === 'longest_first') {
    if (b === null) return [a.slice(0, budget), null];
    let n1 = a.length;
    let n2 = b.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = Math.floor(budget / 2);
      n2 = n1 + (budget % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    return [a.slice(0, n1), b.slice(0, n2)];
  }
  const toRemove = total - budget;
  if (strategy === 'only_second' && b === null) {
    throw invalid("encode: truncation 'only_second' needs a text pair");
  }
  const target = strategy === 'only_first' ? a : b!;
  if (target.length <= toRemove) {
    throw invalid(
      `encode: truncation '${strategy}' cannot fit the input into maxLength: the ${strategy === 'only_first' ? 'first' : 'second'} ` +
        `sequence has ${target.length} tokens but ${toRemove} must be removed`,
    );
  }
  const cut = target.slice(0, target.length - toRemove);
  return strategy === 'only_first' ? [cut, b] : [a, cut];
}

function bertTemplate(cls: number, sep: number, pair: boolean): TemplatePiece[] {
  const t: TemplatePiece[] = [
    { kind: 'special', ids: [cls], typeId: 0 },
    { kind: 'sequence', index: 0, typeId: 0 },
    { kind: 'special', ids: [sep], typeId: 0 },
  ];
  if (pair) t.push({ kind: 'sequence', index: 1, typeId: 1 }, { kind: 'special', ids: [sep], typeId: 1 });
  return t;
}

function parseTemplate(raw: unknown, specials: Record<string, unknown>, pair: boolean): TemplatePiece[] {
  const what = `post_processor.${pair ? 'pair' : 'single'}`;
  if (!Array.isArray(raw)) throw invalid(`tokenizer.json: ${what} must be an array`);
  const out: TemplatePiece[] = [];
  const seen = [0, 0];
  for (const piece of raw) {
    if (isObject(piece) && isObject(piece['SpecialToken'])) {
      const st = piece['SpecialToken'];
      const name = st['id'];
      const typeId = st['type_id'] ?? 0;
      if (typeof name !== 'string' || !isNonNegInt(typeId)) throw invalid(`tokenizer.json: invalid piece in ${what}`);
      const def = specials[name];
      if (!isObject(def) || !Array.isArray(def['ids']) || !def['ids'].every(isNonNegInt)) {
        throw invalid(`tokenizer.json: ${what} uses special token ${JSON.stringify(name)} missing from special_tokens`);
      }
      out.push({ kind: 'special', ids: def['ids'] as number[], typeId });
    } else if (isObject(piece) && isObject(piece['Sequence'])) {
      const sq = piece['Sequence'];
      const typeId = sq['type_id'] ?? 0;
      if ((sq['id'] !== 'A' && sq['id'] !== 'B') || !isNonNegInt(typeId)) {
        throw invalid(`tokenizer.json: invalid piece in ${what}`);
      }
      const index = sq['id'] === 'A' ? 0 : 1;
      seen[index]!++;
      out.push({ kind: 'sequence', index, typeId });
    } else {
      throw invalid(`tokenizer.json: invalid piece in ${what}: ${JSON.stringify(piece)}`);
    }
  }
  if (seen[0] !== 1 || seen[1] !== (pair ? 1 : 0)) {
    throw invalid(`tokenizer.json: ${what} must contain sequence A${pair ? ' and sequence B' : ''} exactly once`);
  }
  return out;
}

function tokenIdPair(raw: unknown, what: string): number {
  if (!Array.isArray(raw) || raw.length !== 2 || typeof raw[0] !== 'string' || !isNonNegInt(raw[1])) {
    throw invalid(`tokenizer.json: post_processor.${what} must be [token, id]`);
  }
  return raw[1];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function optionalString(obj: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`tokenizer.json: ${where}.${key} must be a string`);
  return v;
}

function optionalBool(obj: Record<string, unknown>, key: string, where: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`tokenizer.json: ${where}.${key} must be a boolean`);
  return v;
}

function describeType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (isObject(v)) return JSON.stringify(v['type'] ?? '(no type)');
  return typeof v;
}

function checkText(text: unknown): string {
  if (typeof text !== 'string') throw invalid(`tokenizer: expected a string, got ${typeof text}`);
  return text;
}

function checkMaxLength(maxLength: unknown): number {
  const v = maxLength ?? 512;
  if (!isNonNegInt(v)) throw invalid(`tokenizer: maxLength must be a non-negative integer, got ${String(maxLength)}`);
  return v;
}
