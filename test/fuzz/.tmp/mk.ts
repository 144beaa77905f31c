import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { DataType, encodeModel, floatTensor, intAttr, intsAttr, model, node, valueInfo } from '../models.js';
const dir = '/tmp/h/tmpmodel'; mkdirSync(dir, { recursive: true });
const g = {
  name: 'g',
  input: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => valueInfo(n, DataType.INT64, ['batch', 'sequence'])),
  output: [valueInfo('logits', DataType.FLOAT, ['batch', 3]), valueInfo('last_hidden_state', DataType.FLOAT, ['batch', 'sequence', 4])],
  initializer: [floatTensor('words', [1000, 4], Array.from({ length: 4000 }, (_, i) => Math.sin(i))), floatTensor('proj', [4, 3], Array.from({ length: 12 }, (_, i) => i / 10))],
  node: [node('Gather', ['words', 'input_ids'], ['last_hidden_state']), node('ReduceMean', ['last_hidden_state'], ['mean'], [intsAttr('axes', [1]), intAttr('keepdims', 0)]), node('MatMul', ['mean', 'proj'], ['logits'])],
};
writeFileSync(dir + '/model.onnx', encodeModel(model(g, 12)));
writeFileSync(dir + '/vocab.txt', readFileSync('/work/main/test/fixtures/vocab/bert-base-uncased-vocab.txt', 'utf8').split('\n').slice(0, 1000).join('\n') + '\n');
writeFileSync(dir + '/config.json', JSON.stringify({ id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' }, max_position_embeddings: 128 }));
