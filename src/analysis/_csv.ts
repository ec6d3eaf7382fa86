// Minimal CSV writing (RFC 4180 quoting) for the analysis outputs.

/** Quotes a cell if it needs it. */
export function csvCell(v: string | number | boolean): string {
  const s = typeof v === "number" && !Number.isFinite(v)
    ? (v > 0 ? "inf" : v < 0 ? "-inf" : "")
    : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A whole CSV document. */
export function toCsv(header: string[], rows: (string | number | boolean)[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}
