// The fixture generators' seeded random numbers are the server's own (src/tiny-models): one generator, one set of bytes.
export { SeededRandom } from '../../src/tiny-models/seeded-random.ts';
