export { loadShedding, type LoadSheddingOptions } from './load-shedding.ts';
