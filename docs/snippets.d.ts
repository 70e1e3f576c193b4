// Free names that documentation examples assume, declared once so that every code block in the
// README and docs compiles (scripts/check-snippets.mjs).
declare const url: string;
