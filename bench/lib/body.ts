/** The response body of the throughput backends: exactly 1024 bytes of plain ASCII (safe in an nginx string). */
const PATTERN = 'abcdefghijklmnopqrstuvwxyz0123456789';

export const BODY_TEXT = PATTERN.repeat(Math.ceil(1024 / PATTERN.length)).slice(0, 1024);
export const BODY = Buffer.from(BODY_TEXT, 'ascii');
