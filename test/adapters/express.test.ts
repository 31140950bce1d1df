import { startExpressApi } from './apis.js';
import { runTable } from './table.js';

runTable('Express', startExpressApi);
