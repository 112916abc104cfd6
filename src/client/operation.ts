/**
 * Which subscriptions can resume: the operation declares `$after` and its root field selects
 * `cursor` (directly or in a fragment). Read with a small tokenizer rather than graphql-js's
 * parser, so that the client adds nothing to a bundle (urql does not ship graphql-js).
 */
export interface ResumableOperation {
  /** The response key of the root field (its alias, else its name). */
  field: string;
  /** The response key of `cursor` inside it. */
  cursor: string;
}

type Token = { kind: 'punct' | 'name' | 'var'; value: string };

interface Selection {
  key: string;
  name: string;
  children: Selection[];
  spreads: string[];
}

interface Definition {
  keyword: string;
  name: string | undefined;
  variables: string[];
  selections: Selection[];
  /** For fragments: the fragment's name. */
  fragment?: string;
}

const PUNCTUATORS = new Set(['{', '}', '(', ')', '[', ']', ':', '=', '@', '!', '|', '&']);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    if (c === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
    } else if (c === '"') {
      const block = source.startsWith('"""', i);
      const end = block ? '"""' : '"';
      i += end.length;
      while (i < source.length && !source.startsWith(end, i)) i += source[i] === '\\' ? 2 : 1;
      i += end.length;
    } else if (source.startsWith('...', i)) {
      tokens.push({ kind: 'punct', value: '...' });
      i += 3;
    } else if (PUNCTUATORS.has(c)) {
      tokens.push({ kind: 'punct', value: c });
      i++;
    } else if (c === '$' || /[_A-Za-z]/.test(c)) {
      const start = c === '$' ? i + 1 : i;
      let end = start;
      while (end < source.length && /[_0-9A-Za-z]/.test(source[end] as string)) end++;
      tokens.push({ kind: c === '$' ? 'var' : 'name', value: source.slice(start, end) });
      i = end;
    } else {
      i++; // whitespace, commas, numbers: irrelevant here
    }
  }
  return tokens;
}

class Reader {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}
  peek(): Token | undefined {
    return this.tokens[this.at];
  }
  next(): Token | undefined {
    return this.tokens[this.at++];
  }
  is(value: string): boolean {
    return this.peek()?.kind === 'punct' && this.peek()?.value === value;
  }
  /** Skips a balanced group opened by the current token: ( … ) or [ … ] or { … }. */
  skipGroup(): void {
    let depth = 0;
    do {
      const token = this.next();
      if (!token) return;
      if (token.kind === 'punct' && '([{'.includes(token.value)) depth++;
      if (token.kind === 'punct' && ')]}'.includes(token.value)) depth--;
    } while (depth > 0);
  }
  skipDirectives(): void {
    while (this.is('@')) {
      this.next();
      this.next();
      if (this.is('(')) this.skipGroup();
    }
  }
}

function readSelections(reader: Reader): Selection[] {
  const selections: Selection[] = [];
  if (!reader.is('{')) return selections;
  reader.next();
  while (reader.peek() && !reader.is('}')) {
    if (reader.is('...')) {
      reader.next();
      const token = reader.peek();
      if (token?.kind === 'name' && token.value !== 'on') {
        reader.next();
        reader.skipDirectives();
        selections.push({ key: '', name: '', children: [], spreads: [token.value] });
        continue;
      }
      // An inline fragment: its fields count as the parent's.
      if (token?.value === 'on') {
        reader.next();
        reader.next();
      }
      reader.skipDirectives();
      selections.push(...readSelections(reader));
      continue;
    }
    const first = reader.next();
    if (first?.kind !== 'name') continue;
    const key = first.value;
    let name = first.value;
    if (reader.is(':')) {
      reader.next();
      name = reader.next()?.value ?? name;
    }
    if (reader.is('(')) reader.skipGroup();
    reader.skipDirectives();
    const children = readSelections(reader);
    selections.push({ key, name, children, spreads: [] });
  }
  reader.next();
  return selections;
}

function readDefinitions(source: string): Definition[] {
  const reader = new Reader(tokenize(source));
  const definitions: Definition[] = [];
  while (reader.peek()) {
    if (reader.is('{')) {
      definitions.push({
        keyword: 'query',
        name: undefined,
        variables: [],
        selections: readSelections(reader),
      });
      continue;
    }
    const keyword = reader.next()?.value ?? '';
    let name: string | undefined;
    if (reader.peek()?.kind === 'name') name = reader.next()?.value;
    const variables: string[] = [];
    if (keyword === 'fragment') {
      reader.next(); // on
      reader.next(); // type
    }
    if (reader.is('(')) {
      reader.next();
      let depth = 1;
      while (reader.peek() && depth > 0) {
        const token = reader.next() as Token;
        if (token.kind === 'punct' && '([{'.includes(token.value)) depth++;
        else if (token.kind === 'punct' && ')]}'.includes(token.value)) depth--;
        // A variable's declaration is followed by `:`; elsewhere (default values) `$x` cannot appear.
        else if (token.kind === 'var' && depth === 1 && reader.is(':')) variables.push(token.value);
      }
    }
    reader.skipDirectives();
    const selections = readSelections(reader);
    definitions.push({
      keyword,
      name,
      variables,
      selections,
      ...(keyword === 'fragment' ? { fragment: name } : {}),
    });
  }
  return definitions;
}

function findCursor(
  selections: Selection[],
  fragments: Map<string, Selection[]>,
  seen: Set<string>,
): string | undefined {
  for (const selection of selections) {
    if (selection.name === 'cursor') return selection.key;
    for (const spread of selection.spreads) {
      if (seen.has(spread)) continue;
      seen.add(spread);
      const found = findCursor(fragments.get(spread) ?? [], fragments, seen);
      if (found) return found;
    }
  }
  return undefined;
}

/** The root field to follow, or undefined when this operation is not a resumable subscription. */
export function resumableOperation(
  query: string,
  operationName?: string | null,
): ResumableOperation | undefined {
  let definitions: Definition[];
  try {
    definitions = readDefinitions(query);
  } catch {
    return undefined;
  }
  const operations = definitions.filter((d) => d.fragment === undefined);
  const operation = operationName ? operations.find((d) => d.name === operationName) : operations[0];
  if (operation?.keyword !== 'subscription' || !operation.variables.includes('after')) return undefined;
  const fragments = new Map(definitions.flatMap((d) => (d.fragment ? [[d.fragment, d.selections]] : [])));
  // A subscription has exactly one root field; it may come through a fragment spread.
  const roots = operation.selections.flatMap((s) =>
    s.spreads.length ? s.spreads.flatMap((name) => fragments.get(name) ?? []) : [s],
  );
  const root = roots[0];
  if (!root || roots.length !== 1) return undefined;
  const cursor = findCursor(root.children, fragments, new Set());
  return cursor ? { field: root.key, cursor } : undefined;
}

/** The cursor of the change in this result, if it carries one. */
export function cursorOf(result: { data?: unknown } | null | undefined, operation: ResumableOperation) {
  const data = result?.data as Record<string, Record<string, unknown> | null> | null | undefined;
  const cursor = data?.[operation.field]?.[operation.cursor];
  return typeof cursor === 'string' ? cursor : undefined;
}
