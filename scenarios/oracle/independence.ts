// Static check of the rule "scenarios/ may share types with backend/, never logic": finds every
// import, re-export, dynamic import() and require() that reaches backend/ without being
// type-only. A small tokenizer (strings, templates, comments, regex literals skipped) is
// enough: the project's TypeScript 7 has no JavaScript compiler API to parse with.
import path from 'node:path';

interface Token {
  kind: 'id' | 'str' | 'template' | 'punct';
  value: string; // identifier, punctuator, string contents, or a template's static head
  line: number;
}

/** Keywords after which a "/" starts a regular expression rather than a division. */
const REGEX_AFTER_KEYWORD = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const braces: ('{' | '${')[] = [];
  let i = 0;
  let line = 1;
  const advanceTo = (j: number) => {
    for (; i < j; i++) if (src[i] === '\n') line++;
  };
  // Reads template characters from i until "`" (end) or "${" (expression); returns the text.
  const readTemplatePart = (): string => {
    let text = '';
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') {
        text += src[i + 1] ?? '';
        advanceTo(i + 2);
        continue;
      }
      if (c === '`') {
        advanceTo(i + 1);
        return text;
      }
      if (c === '$' && src[i + 1] === '{') {
        braces.push('${');
        advanceTo(i + 2);
        return text;
      }
      text += c;
      advanceTo(i + 1);
    }
    return text;
  };

  while (i < src.length) {
    const c = src[i];
    const startLine = line;
    if (/\s/.test(c)) {
      advanceTo(i + 1);
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      advanceTo(end < 0 ? src.length : end);
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      advanceTo(end < 0 ? src.length : end + 2);
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < src.length && src[j] !== c && src[j] !== '\n') {
        if (src[j] === '\\') {
          value += src[j + 1] ?? '';
          j += 2;
        } else value += src[j++];
      }
      advanceTo(j + 1);
      tokens.push({ kind: 'str', value, line: startLine });
      continue;
    }
    if (c === '`') {
      advanceTo(i + 1);
      tokens.push({ kind: 'template', value: readTemplatePart(), line: startLine });
      continue;
    }
    if (c === '}' && braces[braces.length - 1] === '${') {
      braces.pop();
      advanceTo(i + 1);
      readTemplatePart();
      continue;
    }
    if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      const m = /^[\w$\u0080-\uffff]+/.exec(src.slice(i, i + 256))!;
      tokens.push({ kind: 'id', value: m[0], line: startLine });
      advanceTo(i + m[0].length);
      continue;
    }
    if (/\d/.test(c)) {
      const m = /^[\w.]+/.exec(src.slice(i, i + 64))!;
      advanceTo(i + m[0].length);
      tokens.push({ kind: 'punct', value: '0', line: startLine });
      continue;
    }
    if (c === '/') {
      const prev = tokens[tokens.length - 1];
      const startsRegex = !prev || (prev.kind === 'punct' && !/^[)\]}0]$/.test(prev.value)) || (prev.kind === 'id' && REGEX_AFTER_KEYWORD.has(prev.value));
      if (startsRegex) {
        let j = i + 1;
        let inClass = false;
        while (j < src.length && src[j] !== '\n' && (inClass || src[j] !== '/')) {
          if (src[j] === '\\') j++;
          else if (src[j] === '[') inClass = true;
          else if (src[j] === ']') inClass = false;
          j++;
        }
        j++;
        while (j < src.length && /[a-z]/i.test(src[j])) j++;
        advanceTo(j);
        tokens.push({ kind: 'punct', value: '0', line: startLine }); // a regex is an operand, like a number
        continue;
      }
    }
    if (c === '{') braces.push('{');
    if (c === '}') braces.pop();
    tokens.push({ kind: 'punct', value: c, line: startLine });
    advanceTo(i + 1);
  }
  return tokens;
}

export interface ImportViolation {
  file: string;
  line: number;
  specifier: string;
  kind: 'import' | 'side-effect import' | 'export ... from' | 'dynamic import()' | 'require()';
  message: string;
}

/** Whether a module specifier written in `fromFile` points into `<rootDir>/backend/`. */
function reachesBackend(specifier: string, fromFile: string, rootDir: string): boolean {
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    const relative = path.relative(rootDir, path.resolve(path.dirname(fromFile), specifier));
    return relative === 'backend' || relative.startsWith(`backend${path.sep}`) || relative.startsWith('backend/');
  }
  // Bare or aliased specifiers: "chargebench/backend/...", "#backend/...", "~/backend/...".
  return /(^|\/)backend(\/|$)/.test(specifier.replace(/^(#|~\/|@\/)/, ''));
}

const isId = (t: Token | undefined, value?: string) => t?.kind === 'id' && (value === undefined || t.value === value);
const isPunct = (t: Token | undefined, value: string) => t?.kind === 'punct' && t.value === value;
const isSpecifier = (t: Token | undefined) => t?.kind === 'str' || t?.kind === 'template';

/** Index of the specifier token after `from` in the statement starting at `start`, or -1. */
function fromSpecifierIndex(tokens: Token[], start: number): number {
  for (let j = start; j < tokens.length && j < start + 400; j++) {
    if (isPunct(tokens[j], ';') || (j > start && (isId(tokens[j], 'import') || isId(tokens[j], 'export')))) return -1;
    if (isId(tokens[j], 'from') && tokens[j + 1]?.kind === 'str') return j + 1;
    if (isId(tokens[j], 'require') && isPunct(tokens[j + 1], '(') && tokens[j + 2]?.kind === 'str') return j + 2;
  }
  return -1;
}

/** One module a source refers to: an import, re-export, dynamic import() or require(). */
export interface ModuleReference {
  line: number;
  specifier: string;
  kind: ImportViolation['kind'];
  /** `import type` / `export type ... from`: no code is loaded. */
  typeOnly: boolean;
}

/**
 * Every module one TypeScript source refers to, with whether the reference is type-only (an
 * `import { type X }` still loads the module under verbatimModuleSyntax, so it is not).
 */
export function findModuleReferences(source: string): ModuleReference[] {
  const tokens = tokenize(source);
  const refs: ModuleReference[] = [];
  const add = (at: Token, kind: ModuleReference['kind'], typeOnly = false) => {
    refs.push({ line: at.line, specifier: at.value, kind, typeOnly });
  };

  tokens.forEach((tok, i) => {
    if (tok.kind !== 'id' || isPunct(tokens[i - 1], '.')) return;
    const next = tokens[i + 1];
    if (tok.value === 'import') {
      if (isPunct(next, '(')) {
        if (isSpecifier(tokens[i + 2])) add(tokens[i + 2], 'dynamic import()');
        return;
      }
      if (next?.kind === 'str') {
        add(next, 'side-effect import');
        return;
      }
      if (!(isId(next) || isPunct(next, '{') || isPunct(next, '*'))) return; // import.meta, { import: 1 }
      const typeOnly = isId(next, 'type') && !isId(tokens[i + 2], 'from') && !isPunct(tokens[i + 2], ',') && !isPunct(tokens[i + 2], '=');
      const spec = fromSpecifierIndex(tokens, i + 1);
      if (spec >= 0) add(tokens[spec], 'import', typeOnly);
    } else if (tok.value === 'export') {
      const typeOnly = isId(next, 'type') && (isPunct(tokens[i + 2], '{') || isPunct(tokens[i + 2], '*'));
      if (!typeOnly && !isPunct(next, '{') && !isPunct(next, '*')) return; // export const/function/...: no module
      const spec = fromSpecifierIndex(tokens, i + 1);
      if (spec >= 0) add(tokens[spec], 'export ... from', typeOnly);
    } else if (tok.value === 'require' && isPunct(next, '(') && isSpecifier(tokens[i + 2])) {
      const importEquals = isPunct(tokens[i - 1], '=') && (isId(tokens[i - 3], 'import') || (isId(tokens[i - 3], 'type') && isId(tokens[i - 4], 'import')));
      if (importEquals) return; // judged above with its import statement
      add(tokens[i + 2], 'require()');
    }
  });
  return refs;
}

/**
 * Every runtime dependency on backend/ in one TypeScript source. `import type` and
 * `export type ... from` are allowed; so is nothing else (an `import { type X }` still loads
 * the module under verbatimModuleSyntax, so it is refused too: write `import type`).
 */
export function findBackendImports(source: string, file: string, rootDir: string): ImportViolation[] {
  return findModuleReferences(source)
    .filter((r) => !r.typeOnly && reachesBackend(r.specifier, file, rootDir))
    .map((r) => ({
      file,
      line: r.line,
      specifier: r.specifier,
      kind: r.kind,
      message:
        `${path.relative(rootDir, file) || file}:${r.line}: ${r.kind} of "${r.specifier}" loads back-end code into scenarios/. ` +
        'The billing oracle must stay independent of backend/ (README, Folders): share types only, with `import type`.',
    }));
}
