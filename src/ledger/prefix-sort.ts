// The sort of a large map batch (map-flat.ts sortBatch, issue #21 tenth round): keys are SHA-256 outputs, so their
// 32-bit prefixes almost never tie, and a radix sort of the prefixes does what a comparator sort did in a quarter
// of a whole map's load.

/**
 * From this many keys a batch is sorted by a radix sort of the 32-bit prefixes: a comparator sort of a whole map's
 * keys (hundreds of thousands at start-up) was a quarter of its load (docs/performance.md, tenth round).
 */
export const RADIX_FROM = 4096;

/**
 * Sorts `order` (positions, ascending) by `prefix` of each position: two stable counting passes of 16 bits, then
 * each run of equal prefixes (rare: SHA-256 outputs) by `tie`, so the result is the comparator sort's.
 */
export function radixByPrefix(prefix: Uint32Array, order: Uint32Array, tie: (a: number, b: number) => number): void {
  const n = order.length;
  const tmp = new Uint32Array(n);
  const count = new Uint32Array(65537);
  for (let i = 0; i < n; i++) count[(prefix[order[i]!]! & 0xffff) + 1]!++;
  for (let k = 0; k < 65536; k++) count[k + 1]! += count[k]!;
  for (let i = 0; i < n; i++) {
    const x = order[i]!;
    tmp[count[prefix[x]! & 0xffff]!++] = x;
  }
  count.fill(0);
  for (let i = 0; i < n; i++) count[(prefix[tmp[i]!]! >>> 16) + 1]!++;
  for (let k = 0; k < 65536; k++) count[k + 1]! += count[k]!;
  for (let i = 0; i < n; i++) {
    const x = tmp[i]!;
    order[count[prefix[x]! >>> 16]!++] = x;
  }
  for (let s = 0; s < n;) {
    let e = s + 1;
    while (e < n && prefix[order[e]!] === prefix[order[s]!]) e++;
    // Insertion sort of the run: a few positions at most.
    for (let i = s + 1; i < e; i++) {
      const x = order[i]!;
      let j = i - 1;
      while (j >= s && tie(order[j]!, x) > 0) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = x;
    }
    s = e;
  }
}
