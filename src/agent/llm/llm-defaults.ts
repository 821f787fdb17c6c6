/** Kept free of imports: `init` offers these as defaults without loading the openai client. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';
export const DEFAULT_DATABRICKS_MODEL = 'databricks-meta-llama-3-3-70b-instruct';
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const OFFLINE_MODEL = 'otel-mlflow-offline';
