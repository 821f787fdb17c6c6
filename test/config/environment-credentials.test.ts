import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialsIn } from '../../src/config/environment-credentials.ts';

describe('the credentials an environment holds', () => {
  it('takes the values of variables named as credentials, a provider’s key the tool has no setting for among them', () => {
    const env = {
      GROQ_API_KEY: 'gsk-groq-key',
      COHERE_APIKEY: 'cohere-key',
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
      AWS_SESSION_TOKEN: 'aws-session',
      HF_TOKEN: 'hf-token',
      JWT_SECRET: 'jwt-secret',
      PGPASSWORD: 'pg-password',
      GOOGLE_PRIVATE_KEY: 'google-private',
    };
    assert.deepEqual(credentialsIn(Object.entries(env)).sort(), Object.values(env).sort());
  });

  it('leaves the values of words that only end like one: a partition key, a token budget, a tokenizer setting', () => {
    const env = {
      PARTITION_KEY: 'timestamp',
      MAX_TOKENS: '4096',
      TOKENIZERS_PARALLELISM: 'false',
      SSH_AUTH_SOCK: '/tmp/agent.sock',
      HOME: '/home/me',
    };
    assert.deepEqual(credentialsIn(Object.entries(env)), []);
  });

  it('takes the password of a URL, as written and decoded, whatever the variable’s name', () => {
    const env = { DATABASE_URL: 'postgres://app:p%40ss-word-9@db:5432/app', REDIS_URL: 'redis://cache:6379', EMPTY: '' };
    assert.deepEqual(credentialsIn(Object.entries(env)), ['p%40ss-word-9', 'p@ss-word-9']);
  });

  it('reads every environment given, a .env file’s values with the process’s', () => {
    const dotenv = new Map<string, string | null>([
      ['ANTHROPIC_API_KEY', 'from-dotenv'],
      ['UNSET_TOKEN', null],
    ]);
    assert.deepEqual(credentialsIn(Object.entries({ OPENAI_API_KEY: 'from-env' }), dotenv), ['from-env', 'from-dotenv']);
  });
});
