// Serial framing codec (COBS + CRC-32): hex vectors, and property tests feeding garbage, truncated, corrupted
// and oversize frames to the deframer: nothing escapes, nothing wrong is delivered, the counters say what was dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cobsDecode, cobsEncodeInto, cobsMaxLen, crc32, crc32Js, encodeFrame, frameWireLen, FRAME_CONTROL, FRAME_IP, SerialDeframer, type Frame,
} from '../../src/proto/serial-frame.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const cobs = (data: number[]): string => {
  const out = new Uint8Array(cobsMaxLen(data.length));
  return hex(out.subarray(0, cobsEncodeInto(Uint8Array.from(data), out, 0)));
};

test('COBS: the vectors of Cheshire & Baker (and Wikipedia)', () => {
  assert.equal(cobs([0x00]), '0101');
  assert.equal(cobs([0x00, 0x00]), '010101');
  assert.equal(cobs([0x11, 0x22, 0x00, 0x33]), '0311220233');
  assert.equal(cobs([0x11, 0x22, 0x33, 0x44]), '0511223344');
  assert.equal(cobs([0x11, 0x00, 0x00, 0x00]), '0211010101');
  const run254 = Array.from({ length: 254 }, (_, i) => i + 1);
  assert.equal(cobs(run254), 'ff' + hex(Uint8Array.from(run254)) + '01');
  const run255 = Array.from({ length: 255 }, (_, i) => (i % 255) + 1);
  assert.equal(cobs(run255), 'ff' + hex(Uint8Array.from(run255.slice(0, 254))) + '02' + hex(Uint8Array.from(run255.slice(254))));
  assert.equal(hex(cobsDecode(Buffer.from('0311220233', 'hex'))!), '11220033');
  assert.equal(cobsDecode(Buffer.from('05112233', 'hex')), undefined, 'a block past the end is invalid');
});

test('CRC-32: the check value, zlib and the table agree', () => {
  const check = Buffer.from('123456789');
  assert.equal(crc32(check), 0xcbf43926);
  assert.equal(crc32Js(check), 0xcbf43926);
});

test('frame vectors: delimiters, type, payload and big-endian CRC-32 inside COBS', () => {
  // IP frame, payload 45 00: raw 01 45 00 | crc32(01 45 00) = 73 8d 08 65 -> COBS 03 01 45 | 05 73 8d 08 65
  assert.equal(hex(encodeFrame(FRAME_IP, Buffer.from('4500', 'hex'))), '00' + '030145' + '05738d0865' + '00');
  assert.equal(hex(Uint8Array.from(crcBytes([0x01, 0x45, 0x00]))), '738d0865');
  // control frame "HNT": raw 02 48 4e 54 | f7 38 3c 89 (no zero byte: one COBS block of 8)
  assert.equal(hex(encodeFrame(FRAME_CONTROL, Buffer.from('HNT'))), '00' + '0902484e54f7383c89' + '00');
  assert.equal(hex(encodeFrame(FRAME_CONTROL, Buffer.alloc(0))), '00' + cobs([0x02, ...crcBytes([0x02])]) + '00');
  assert.equal(frameWireLen(1400), 1400 + 5 + 6 + 2);
});

function crcBytes(b: number[]): number[] {
  const v = crc32(Uint8Array.from(b));
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function collect(max = 1500): { d: SerialDeframer; frames: Frame[] } {
  const frames: Frame[] = [];
  return { d: new SerialDeframer(max, (f) => frames.push(f)), frames };
}

test('deframer: frames in any segmentation, idle delimiters ignored', () => {
  const a = encodeFrame(FRAME_IP, Buffer.from('450000140000', 'hex'));
  const b = encodeFrame(FRAME_CONTROL, Buffer.from('hello'));
  const stream = Buffer.concat([Buffer.from([0, 0, 0]), a, b, Buffer.from([0])]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const { d, frames } = collect();
    d.push(stream.subarray(0, cut));
    d.push(stream.subarray(cut));
    assert.equal(frames.length, 2);
    assert.equal(frames[0]!.type, FRAME_IP);
    assert.equal(hex(frames[0]!.payload), '450000140000');
    assert.equal(frames[1]!.payload.toString(), 'hello');
    const s = d.stats();
    assert.equal(Object.values(s.dropped).reduce((x, y) => x + y, 0), 0);
  }
});

test('deframer: each kind of bad frame is dropped and counted by reason', () => {
  const { d, frames } = collect(64);
  const good = encodeFrame(FRAME_IP, Buffer.alloc(20, 0x45));
  const badCrc = Buffer.from(good); badCrc[5] = badCrc[5]! ^ 0x01;
  d.push(badCrc);
  d.push(Buffer.from([0x00, 0x05, 0x11, 0x00])); // COBS block past the end
  d.push(Buffer.from([0x00, 0x03, 0x01, 0x02, 0x00])); // valid COBS, 2 bytes: shorter than type + CRC
  d.push(Buffer.concat([Buffer.from([0]), Buffer.alloc(500, 0x41), Buffer.from([0])])); // longer than the largest frame
  const raw = Buffer.from([0x09, 1, 2, 3, ...crcBytes([0x09, 1, 2, 3])]);
  const o = Buffer.alloc(cobsMaxLen(raw.length) + 2); o[0] = 0; const n = cobsEncodeInto(raw, o, 1); o[n] = 0;
  d.push(o.subarray(0, n + 1)); // good CRC, unknown type 0x09
  d.push(good);
  assert.equal(frames.length, 1, 'only the good frame');
  const s = d.stats();
  assert.deepEqual(s.dropped, { 'bad-cobs': 1, truncated: 1, oversize: 1, 'bad-crc': 1, 'bad-type': 1 });
  assert.ok(s.droppedBytes > 500);
});

test('deframer: resynchronises after noise at the next delimiter', () => {
  const { d, frames } = collect();
  d.push(Buffer.from('deadbeef', 'hex')); // noise on an idle line
  d.push(encodeFrame(FRAME_IP, Buffer.alloc(40, 0x45)));
  assert.equal(frames.length, 1, 'the leading delimiter ends the noise');
  assert.equal(d.stats().dropped['bad-crc'] + d.stats().dropped['bad-cobs'] + d.stats().dropped.truncated, 1);
});

const payloadArb = fc.uint8Array({ minLength: 0, maxLength: 600 });
const frameArb = fc.record({ type: fc.constantFrom(FRAME_IP, FRAME_CONTROL), payload: payloadArb });

test('property: any frames, any chunking: delivered exactly, in order, nothing dropped', () => {
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(2000), { maxLength: 8 }), (fs, cuts) => {
    const stream = Buffer.concat(fs.map((f) => encodeFrame(f.type as 1 | 2, f.payload)));
    const { d, frames } = collect(600);
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
    let prev = 0;
    for (const p of [...points, stream.length]) { d.push(stream.subarray(prev, p)); prev = p; }
    assert.equal(frames.length, fs.length);
    frames.forEach((f, i) => { assert.equal(f.type, fs[i]!.type); assert.equal(hex(f.payload), hex(fs[i]!.payload)); });
    assert.equal(Object.values(d.stats().dropped).reduce((x, y) => x + y, 0), 0);
  }), { numRuns: 300 });
});

test('property: random garbage never throws and never yields a frame with a wrong CRC', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 6 }), (chunks) => {
    const { d, frames } = collect(1500);
    for (const c of chunks) d.push(c);
    for (const f of frames) assert.ok(f.type === FRAME_IP || f.type === FRAME_CONTROL);
    const s = d.stats();
    assert.equal(s.lineBytes, chunks.reduce((a, c) => a + c.length, 0));
  }), { numRuns: 300 });
});

test('property: a truncated or corrupted frame is dropped (counted), and the next good frame still arrives', () => {
  fc.assert(fc.property(frameArb, frameArb, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (f1, f2, pos, xor, truncate) => {
    const a = encodeFrame(f1.type as 1 | 2, f1.payload);
    let bad: Buffer;
    if (truncate) {
      bad = a.subarray(0, 1 + (pos % (a.length - 2))); // cut before the trailing delimiter
    } else {
      bad = Buffer.from(a);
      const i = 1 + (pos % (a.length - 2)); // inside the frame, not a delimiter
      bad[i]! ^= xor;
    }
    const b = encodeFrame(f2.type as 1 | 2, f2.payload);
    const { d, frames } = collect(600);
    d.push(bad);
    d.push(b);
    const dropped = Object.values(d.stats().dropped).reduce((x, y) => x + y, 0);
    // The damaged frame is never delivered as f1 with other content; the good one always arrives last.
    assert.ok(frames.length >= 1);
    const last = frames[frames.length - 1]!;
    assert.equal(hex(last.payload), hex(f2.payload));
    if (frames.length === 1) assert.ok(dropped >= 1 || (truncate && bad.length <= 1), 'the bad frame was counted');
    for (const f of frames.slice(0, -1)) assert.fail(`a damaged frame was delivered: ${hex(f.payload).slice(0, 40)}`);
  }), { numRuns: 500 });
});
