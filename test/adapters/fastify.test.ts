import Fastify from 'fastify';
import { keygatePlugin } from '../../src/adapters/fastify.js';
import { describeAuth, ROUTES, runTable, type StartApi } from './table.js';

export const startFastifyApi: StartApi = async (options) => {
  const app = Fastify({ logger: false });
  await app.register(keygatePlugin, options);
  for (const route of ROUTES) {
    app.route({
      method: ['GET', 'POST'],
      url: route.path,
      preHandler: app.keygate.protect(route.policy),
      handler: async (request) => describeAuth(request.auth),
    });
  }
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
};

runTable('Fastify', startFastifyApi);
