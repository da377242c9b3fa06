// CSV cells for spreadsheets. A text cell that a spreadsheet would read as a
// formula (starting with = + - @, a tab or a carriage return) is prefixed with
// ' so that it stays text: a charger's or partner's words never run as a
// formula on an operator's machine. Numbers stay numbers.

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(v) {
  if (v === undefined || v === null) return '';
  let s = String(v);
  if (typeof v !== 'number' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values) {
  return values.map(csvCell).join(',');
}
