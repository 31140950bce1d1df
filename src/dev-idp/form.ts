import type { IncomingMessage } from 'node:http';

/** Largest accepted form body, in bytes. */
export const MAX_FORM_BYTES = 8 * 1024;

/** An error with the HTTP status and a message safe to show to the user. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly title: string, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Reads an `application/x-www-form-urlencoded` body of at most MAX_FORM_BYTES. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new HttpError(415, 'Unsupported form', 'The form must be sent as application/x-www-form-urlencoded.');
  }
  const tooLarge = new HttpError(413, 'Form too large', `The form is larger than ${MAX_FORM_BYTES} bytes.`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_FORM_BYTES) throw tooLarge;

  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer | string): void => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      size += buffer.length;
      if (size > MAX_FORM_BYTES) {
        cleanup();
        // Keep the socket usable for the 413 answer: discard the rest instead of destroying the request.
        req.resume();
        reject(tooLarge);
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new HttpError(400, 'Bad request', `The form could not be read (${error.message}).`));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
  return new URLSearchParams(body.toString('utf8'));
}

/** The single value of a form field; several values or none give undefined. */
export function field(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}
