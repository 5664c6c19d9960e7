// The throw-away model a spare onnx runner loads once to warm its runtime: a tiny BERT-layout embedding model.
import path from 'node:path';
import { writeTinyBertModel } from '../../../tiny-models/bert-model.ts';
import type { WarmUpModel } from '../runner-backend.ts';

export async function writeWarmUpModel(dir: string): Promise<WarmUpModel> {
  const modelDir = path.join(dir, 'warm');
  await writeTinyBertModel(modelDir, { hiddenSize: 8, numLayers: 1, maxPositions: 16 });
  return { modelDir, entry: 'onnx/model.onnx', extras: { dtype: 'fp32' } };
}
