// postinstall: patches/ fix test-only devDependencies (the EthereumJS client used as a test peer).
// A production install (`npm ci --omit=dev`) has neither the client nor patch-package: nothing to do.
import { existsSync } from 'node:fs'
import process from 'node:process'
import { execFileSync } from 'node:child_process'

if (existsSync('node_modules/@ethereumjs/client') && existsSync('node_modules/patch-package')) {
  execFileSync(process.execPath, ['node_modules/patch-package/index.js'], { stdio: 'inherit' })
}
