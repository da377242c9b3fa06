// CSV cells for spreadsheets. A text cell that a spreadsheet would read as a
// formula (starting with = + - @, a tab or a carriage return) is prefixed with
// ' so that it stays text: a charger's or partner's words never run as a
// formula on an operator's machine. Numbers stay numbers.

const FORMULA_START = /^[=+\-@\t\r]/;
// Spreadsheets in many locales split on `;`: what follows one starts a cell.
const FORMULA_AFTER_SEMICOLON = /;(?=[=+\-@\t\r])/g;

export function csvCell(v) {
  if (v === undefined || v === null) return '';
  let s = String(v);
  if (typeof v !== 'number') {
    if (FORMULA_START.test(s)) s = `'${s}`;
    s = s.replace(FORMULA_AFTER_SEMICOLON, ";'");
  }
  return /[",;\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values) {
  return values.map(csvCell).join(',');
}
