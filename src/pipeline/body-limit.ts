import { Transform, TransformCallback } from 'node:stream';
import { payloadTooLarge } from '../errors/coded';

/**
 * The stream a client's body is relayed upstream through. It counts the bytes of a body whose
 * length was not declared up front (chunked) and fails as soon as they pass the limit, so an
 * oversized upload is cut off instead of being relayed whole. It is also what undici may destroy
 * when the upstream fails, leaving the client's request (and connection) intact for the answer.
 */
export class BodyLimit extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      done(payloadTooLarge(this.limit));
      return;
    }
    done(null, chunk);
  }
}
