/** A GitHub-flavoured markdown table; columns named in `right` are right-aligned (numbers). */
export function markdownTable(
  headers: string[],
  rows: string[][],
  right: ReadonlySet<number> = new Set(),
): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const widths = headers.map((header, column) =>
    Math.max(3, header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells
      .map((text, column) =>
        right.has(column) ? cell(text).padStart(widths[column]!) : cell(text).padEnd(widths[column]!),
      )
      .join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (right.has(column) ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
