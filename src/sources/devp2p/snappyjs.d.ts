declare module 'snappyjs' {
  /** Throws when the declared uncompressed length exceeds `maxLength` or the stream is malformed. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array
  export function compress(uncompressed: Uint8Array): Uint8Array
}
