/** snappyjs, the reference the tests check our snappy against (production code does not use it). */
declare module 'snappyjs' {
  export function compress(uncompressed: Uint8Array): Uint8Array
  export function uncompress(compressed: Uint8Array): Uint8Array
}
