/** A problem with the user's input (arguments, data folder): printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
