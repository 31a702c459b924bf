import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { Writable } from 'node:stream';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { minorCollectionsDuring } from '../helpers/gc';
import { startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * gateway.releaseBodyMemoryEvery: bodies relayed through the gateway, both ways, are followed by
 * young-generation collections, one per `every` bytes at most; with 0b the gateway asks for none.
 */
const MIB = 1024 * 1024;
const TRANSFER_MIB = 16;
const chunk = Buffer.alloc(64 * 1024, 'g');

/** Writes TRANSFER_MIB of `chunk` with backpressure, then ends the stream. */
function writeTransfer(out: Writable): void {
  let left = (TRANSFER_MIB * MIB) / chunk.length;
  const pump = (): void => {
    while (left > 0) {
      left--;
      if (!out.write(chunk)) return void out.once('drain', pump);
    }
    out.end();
  };
  pump();
}

let upstream: TestUpstream;
let releasing: RunningGateway;
let notReleasing: RunningGateway;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': TRANSFER_MIB * MIB });
      writeTransfer(res);
      return;
    }
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.end(JSON.stringify({ bytes })));
  });
  const config = (every: string) =>
    configFrom(`
version: 1
gateway: { releaseBodyMemoryEvery: ${every} }
services:
  up: { instances: ["${upstream.url}"] }
routes:
  - { name: files, path: /files, service: up, maxBodySize: 100mb }
`);
  releasing = await startGateway(config('1mb'));
  notReleasing = await startGateway(config('0b'));
});

afterAll(async () => {
  await releasing.stop();
  await notReleasing.stop();
  await upstream.close();
});

function upload(gw: RunningGateway): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gw.url}/files/in`, { method: 'POST', headers: { 'content-length': TRANSFER_MIB * MIB } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve((JSON.parse(text) as { bytes: number }).bytes));
    });
    req.on('error', reject);
    writeTransfer(req);
  });
}

function download(gw: RunningGateway): Promise<string> {
  return new Promise((resolve, reject) => {
    httpRequest(`${gw.url}/files/out`, (res) => {
      const hash = createHash('sha256');
      res.on('data', (c: Buffer) => hash.update(c));
      res.on('end', () => resolve(hash.digest('hex')));
    })
      .on('error', reject)
      .end();
  });
}

const expectedDownload = (() => {
  const hash = createHash('sha256');
  for (let i = 0; i < (TRANSFER_MIB * MIB) / chunk.length; i++) hash.update(chunk);
  return hash.digest('hex');
})();

describe('gateway.releaseBodyMemoryEvery', () => {
  it('collects as an upload is relayed, and the body arrives whole', async () => {
    let received = 0;
    const withReleaser = await minorCollectionsDuring(async () => void (received = await upload(releasing)));
    expect(received).toBe(TRANSFER_MIB * MIB);
    let receivedWithout = 0;
    const without = await minorCollectionsDuring(async () => void (receivedWithout = await upload(notReleasing)));
    expect(receivedWithout).toBe(TRANSFER_MIB * MIB);
    // One per MiB relayed at most: the chunks relayed in one turn of the event loop (here, with
    // client, gateway and upstream in one process, about 2 MiB) share one collection.
    expect(withReleaser).toBeGreaterThanOrEqual(TRANSFER_MIB / 4);
    expect(without).toBeLessThan(TRANSFER_MIB / 4);
  });

  it('collects as an answer is relayed, and the answer arrives whole', async () => {
    let digest = '';
    const withReleaser = await minorCollectionsDuring(async () => void (digest = await download(releasing)));
    expect(digest).toBe(expectedDownload);
    let digestWithout = '';
    const without = await minorCollectionsDuring(async () => void (digestWithout = await download(notReleasing)));
    expect(digestWithout).toBe(expectedDownload);
    expect(withReleaser).toBeGreaterThanOrEqual(TRANSFER_MIB / 4);
    expect(without).toBeLessThan(TRANSFER_MIB / 4);
  });
});
