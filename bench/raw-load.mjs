// Child process for P3: a fresh process doing getLlama + loadModel + createContext, printing "ready" when done (plain JavaScript, like Hangar's runners).
import { getLlama } from 'node-llama-cpp';

const [file, contextSize, threads] = process.argv.slice(2);
const llama = await getLlama({ gpu: false });
const model = await llama.loadModel({ modelPath: file });
const context = await model.createContext({ contextSize: Number(contextSize), threads: Number(threads) });
process.stdout.write('ready\n');
await context.dispose();
await model.dispose();
