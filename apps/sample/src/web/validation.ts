import { MAX_TITLE_LENGTH } from '../db/record-store';

/** A request's input is unusable; answered with 400 and this message. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(
    /** The offending field, or `body` for the body as a whole. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The body of `POST /api/records`. @throws InvalidInputError */
export function parseNewRecord(body: unknown): { title: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputError('body', 'the body must be a JSON object like {"title": "..."}');
  }
  const title = (body as { title?: unknown }).title;
  if (title === undefined) throw new InvalidInputError('title', 'title is required');
  if (typeof title !== 'string') throw new InvalidInputError('title', 'title must be a string');
  const trimmed = title.trim();
  if (trimmed.length === 0) throw new InvalidInputError('title', 'title must not be empty');
  // Count characters as people see them (code points), as the column's char_length() does.
  if ([...trimmed].length > MAX_TITLE_LENGTH) {
    throw new InvalidInputError('title', `title must be at most ${MAX_TITLE_LENGTH} characters`);
  }
  return { title: trimmed };
}
