// `node --import ./record-loads.mjs`: registers load-hooks.mjs, writing to the file in KEYGATE_LOAD_LOG.
import { register } from 'node:module';

register('./load-hooks.mjs', import.meta.url, { data: { file: process.env.KEYGATE_LOAD_LOG } });
