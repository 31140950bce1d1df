import { startFastifyApi } from './apis.js';
import { runTable } from './table.js';

runTable('Fastify', startFastifyApi);
