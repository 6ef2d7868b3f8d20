/** `--export-features` and `--export-assignments`: plain CSV files. */
import { writeFileSync } from 'node:fs';

/**
 * Writes the standardised feature matrix: header = feature names, one row per device.
 *
 * @example
 * writeFeaturesCsv('features.csv', FEATURE_NAMES_V1, matrix);
 */
export function writeFeaturesCsv(file: string, names: readonly string[], matrix: Float32Array): void {
  const d = names.length;
  const lines = [names.join(',')];
  for (let off = 0; off < matrix.length; off += d) {
    const row: string[] = [];
    for (let j = 0; j < d; j++) row.push(String(Number((matrix[off + j] as number).toPrecision(7))));
    lines.push(row.join(','));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/**
 * Writes `device,private,nonPrivate`: each device's segment under both models.
 *
 * @example
 * writeAssignmentsCsv('assignments.csv', privateLabels, baselineLabels);
 */
export function writeAssignmentsCsv(file: string, privateLabels: Int32Array, nonPrivateLabels: Int32Array): void {
  const lines = ['device,private,nonPrivate'];
  for (let i = 0; i < privateLabels.length; i++) lines.push(`${i},${privateLabels[i]},${nonPrivateLabels[i]}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
}
