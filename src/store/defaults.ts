/** Store defaults with no imports, so CLI option definitions can use them without loading the store. */
export const DEFAULT_STORE_URL = 'lmdb:./data'
