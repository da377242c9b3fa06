// The console's CSV export: cells a spreadsheet would run as formulas stay
// text, quoting follows RFC 4180, numbers are left as numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const source = await readFile(new URL('../../functions/console-api/web/js/csv.js', import.meta.url), 'utf8');
const { csvCell, csvLine } = await import(`data:text/javascript,${encodeURIComponent(source)}`);

test('cells that start a formula are prefixed so they stay text', () => {
  assert.equal(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  for (const start of ['+', '-', '@', '\t', '\r']) {
    assert.ok(csvCell(`${start}1+1`).startsWith(`'`) || csvCell(`${start}1+1`).startsWith(`"'`), JSON.stringify(start));
  }
  assert.equal(csvCell('@SUM(A1)'), `'@SUM(A1)`);
});

test('plain text, numbers and empty values are written as they are', () => {
  assert.equal(csvCell('remote'), 'remote');
  assert.equal(csvCell(-1.5), '-1.5');
  assert.equal(csvCell(12.25), '12.25');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(undefined), '');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvLine(['a', 1, '=1']), `a,1,'=1`);
});

test('a formula after a semicolon is guarded too, and the cell quoted', () => {
  assert.equal(csvCell('ok;=cmd|calc'), `"ok;'=cmd|calc"`);
  assert.equal(csvCell('a;-1'), `"a;'-1"`);
  assert.equal(csvCell('a;b'), '"a;b"');
});
