// HDR histograms for latency in microseconds. Uses the WebAssembly build of hdr-histogram-js
// when it initialises (about 5x faster recording), else the JS build. WASM histograms must
// be destroy()ed: use dispose().

import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

let wasm = false;
let initialised: Promise<boolean> | null = null;

/** Initialises the WASM build once per thread; resolves to whether it is in use. */
export function initHistograms(): Promise<boolean> {
  if (!initialised) {
    initialised = hdr
      .initWebAssembly()
      .then(() => {
        wasm = true;
        return true;
      })
      .catch(() => {
        wasm = false;
        return false;
      });
  }
  return initialised;
}

export function usingWasm(): boolean {
  return wasm;
}

/** One hour in µs: the highest value we expect; autoResize covers more. */
const HIGHEST_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: wasm,
  });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(b64: string): Histogram {
  return hdr.decodeFromCompressedBase64(b64, 32, wasm);
}

export function dispose(h: Histogram): void {
  const maybe = h as Histogram & { destroy?: () => void };
  if (typeof maybe.destroy === 'function') maybe.destroy();
}

/** Merges encoded histograms per key with add(); returns encoded results. */
export function mergeEncoded(parts: Array<Record<string, string>>): Record<string, string> {
  const merged = new Map<string, Histogram>();
  for (const part of parts) {
    for (const [key, b64] of Object.entries(part)) {
      const h = decodeHistogram(b64);
      let into = merged.get(key);
      if (!into) {
        into = newHistogram();
        merged.set(key, into);
      }
      into.add(h);
      dispose(h);
    }
  }
  const out: Record<string, string> = {};
  for (const key of [...merged.keys()].sort()) {
    const h = merged.get(key)!;
    out[key] = encodeHistogram(h);
    dispose(h);
  }
  return out;
}
