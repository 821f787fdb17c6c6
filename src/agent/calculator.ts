/**
 * Arithmetic for the agent's calculator tool: numbers, + - * / % ^, parentheses and unary minus.
 * A parser rather than eval, because the expression comes from a model (and, through it, a user).
 */
export function evaluateExpression(expression: string): number {
  const tokens = tokenize(expression);
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];

  const primary = (): number => {
    const token = take();
    if (token === '(') {
      const value = sum();
      if (take() !== ')') throw new Error(`missing ')' in ${expression}`);
      return value;
    }
    if (token === '-') return -primary();
    if (token === '+') return primary();
    const value = Number(token);
    if (token === undefined || !Number.isFinite(value)) throw new Error(`expected a number in '${expression}'`);
    return value;
  };
  const power = (): number => {
    const base = primary();
    if (peek() !== '^') return base;
    take();
    return base ** power();
  };
  const product = (): number => {
    let value = power();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const op = take();
      const right = power();
      value = op === '*' ? value * right : op === '/' ? value / right : value % right;
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === '+' || peek() === '-') value = take() === '+' ? value + product() : value - product();
    return value;
  };

  const result = sum();
  if (position !== tokens.length) throw new Error(`unexpected '${tokens[position]}' in '${expression}'`);
  if (!Number.isFinite(result)) throw new Error(`'${expression}' has no finite value`);
  return result;
}

function tokenize(expression: string): string[] {
  const tokens = expression
    .replace(/\s+/g, '')
    .replace(/×/g, '*')
    .replace(/÷/g, '/')
    .match(/\d+(?:\.\d+)?|[-+*/%^()]|./g);
  if (!tokens || tokens.length === 0) throw new Error('empty expression');
  const bad = tokens.find((t) => !/^(\d+(?:\.\d+)?|[-+*/%^()])$/.test(t));
  if (bad) throw new Error(`unsupported character '${bad}' in '${expression}'`);
  return tokens;
}
