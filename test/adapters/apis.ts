/** The same small API on each adapter, serving the table's ROUTES; used by the table and the revocation test. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { keygateExpress } from '../../src/adapters/express.js';
import { keygatePlugin } from '../../src/adapters/fastify.js';
import { describeAuth, ROUTES, type StartApi } from './table.js';

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

export const startExpressApi: StartApi = async (options) => {
  const app = express();
  app.use(express.json());
  const auth = keygateExpress(options);
  for (const route of ROUTES) {
    app.all(route.path, auth.protect(route.policy), (req, res) => {
      res.json(describeAuth(req.auth));
    });
  }
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await auth.core.close();
    },
  };
};
