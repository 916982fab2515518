import { describe, expect, it } from 'vitest'
import { calcDifficulty } from '../../src/chain/consensus/difficulty.js'
import { rulesAt, type Hardfork } from '../../src/chain/forks.js'
import { fixturePath, listFiles } from '../fixtures.js'
import { readFileSync } from 'node:fs'

interface DifficultyCase {
  parentTimestamp: string
  parentDifficulty: string
  parentUncles: string
  currentTimestamp: string
  currentBlockNumber: string
  currentDifficulty: string
}

const FORKS: Record<string, Hardfork> = { Frontier: 'frontier', Homestead: 'homestead', Byzantium: 'byzantium', Constantinople: 'constantinople', ConstantinopleFix: 'petersburg', Istanbul: 'istanbul', MuirGlacier: 'muirGlacier', Berlin: 'berlin', London: 'london', ArrowGlacier: 'arrowGlacier', GrayGlacier: 'grayGlacier' }

const files = listFiles(fixturePath('ethereum-tests', 'DifficultyTests'), '.json')

describe('PoW difficulty (ethereum-tests DifficultyTests)', () => {
  it.each(files.map((f) => [f.split('/').slice(-2).join('/'), f]))('%s', (_name, file) => {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, Record<string, DifficultyCase>>>
    let count = 0
    for (const suite of Object.values(json)) {
      for (const [forkName, cases] of Object.entries(suite)) {
        if (forkName === '_info') continue
        const rules = rulesAt(1n, FORKS[forkName])
        for (const [name, c] of Object.entries(cases)) {
          const got = calcDifficulty(rules, Number(c.currentTimestamp), {
            number: Number(c.currentBlockNumber) - 1,
            timestamp: Number(c.parentTimestamp),
            difficulty: BigInt(c.parentDifficulty),
            hasOmmers: BigInt(c.parentUncles) !== 0n,
          })
          expect(got, `${forkName} ${name}`).toBe(BigInt(c.currentDifficulty))
          count++
        }
      }
    }
    expect(count).toBeGreaterThan(100)
  })
})
