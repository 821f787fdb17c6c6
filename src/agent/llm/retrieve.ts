import { CORPUS, type Passage } from './corpus.ts';

export interface ScoredPassage {
  passage: Passage;
  /** BM25 score, rounded to 3 decimals; only positive scores are returned. */
  score: number;
}

// Okapi BM25 with its usual constants.
const K1 = 1.2;
const B = 0.75;
/** A title names what a passage is about, so its words count as much as this many mentions in the text. */
const TITLE_WEIGHT = 2;

const STOPWORDS = new Set(
  (
    'a an and any are as at be been being but by can could did do does doing for from give had has have how i if in into ' +
    'is it its me my no not of on or our please should so some tell than that the their them then there these they this ' +
    'those to us was we were what when where which who whom why will with would you your explain describe mean means'
  ).split(' '),
);

/**
 * The passages that best match `query`, best first; ties keep corpus order. Deterministic, and the
 * index is built on first use.
 */
export function searchCorpus(query: string, topK: number): ScoredPassage[] {
  const limit = Math.floor(topK);
  if (!(limit > 0)) return [];
  const index = getIndex();
  const terms = [...new Set(searchTerms(query))];
  const scored: { position: number; score: number }[] = [];
  index.documents.forEach((document, position) => {
    let score = 0;
    for (const term of terms) {
      const tf = document.termFrequencies.get(term);
      if (tf === undefined) continue;
      const norm = K1 * (1 - B + (B * document.length) / index.averageLength);
      score += (index.idf.get(term) ?? 0) * ((tf * (K1 + 1)) / (tf + norm));
    }
    score += titleCoverage(document, terms, index.idf);
    if (score > 0) scored.push({ position, score });
  });
  scored.sort((a, b) => b.score - a.score || a.position - b.position);
  return scored.slice(0, limit).map(({ position, score }) => ({ passage: CORPUS[position]!, score: Math.round(score * 1000) / 1000 }));
}

/**
 * Rewards a query that says what the title says: the idf of the shared terms times the share of the
 * title they cover, so 'What is MLflow tracing?' prefers 'MLflow Tracing' to 'Searching MLflow traces'.
 */
function titleCoverage(document: IndexedDocument, queryTerms: string[], idf: Map<string, number>): number {
  const shared = queryTerms.filter((term) => document.titleTerms.has(term));
  if (shared.length === 0) return 0;
  const weight = shared.reduce((sum, term) => sum + (idf.get(term) ?? 0), 0);
  return (weight * shared.length) / document.titleTerms.size;
}

/** Lower-cased, stemmed words without stopwords: what the index holds and queries are matched on. */
export function searchTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.filter((word) => word.length > 1 && !STOPWORDS.has(word)).map(stem);
}

/**
 * A light suffix stripper: enough that 'traces', 'tracing' and 'traced' meet at 'trac', and
 * 'propagation' meets 'propagate', without a full Porter stemmer.
 */
function stem(word: string): string {
  if (word.length <= 3 || /^\d/.test(word)) return word;
  let w = word;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('ation') && w.length > 7) w = `${w.slice(0, -5)}ate`;
  else if (w.endsWith('ing') && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length > 4) w = undouble(w.slice(0, -2));
  if (w.endsWith('e') && w.length > 3) w = w.slice(0, -1);
  return w;
}

/** 'runn' → 'run', 'embedd' → 'embed'; 'call' and 'pass' keep their double letter. */
function undouble(w: string): string {
  return /([^aeioulsz])\1$/.test(w) ? w.slice(0, -1) : w;
}

interface IndexedDocument {
  termFrequencies: Map<string, number>;
  titleTerms: Set<string>;
  length: number;
}

interface Index {
  documents: IndexedDocument[];
  idf: Map<string, number>;
  averageLength: number;
}

let index: Index | undefined;

function getIndex(): Index {
  index ??= buildIndex(CORPUS);
  return index;
}

function buildIndex(passages: readonly Passage[]): Index {
  const documentFrequency = new Map<string, number>();
  const documents = passages.map((passage): IndexedDocument => {
    const termFrequencies = new Map<string, number>();
    const add = (terms: string[], weight: number) => {
      for (const term of terms) termFrequencies.set(term, (termFrequencies.get(term) ?? 0) + weight);
    };
    const titleTerms = searchTerms(passage.title);
    const textTerms = searchTerms(passage.text);
    add(titleTerms, TITLE_WEIGHT);
    add(textTerms, 1);
    for (const term of termFrequencies.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    return { termFrequencies, titleTerms: new Set(titleTerms), length: titleTerms.length * TITLE_WEIGHT + textTerms.length };
  });
  const n = documents.length;
  const idf = new Map<string, number>();
  for (const [term, df] of documentFrequency) idf.set(term, Math.log(1 + (n - df + 0.5) / (df + 0.5)));
  const averageLength = documents.reduce((sum, d) => sum + d.length, 0) / Math.max(n, 1);
  return { documents, idf, averageLength };
}
