import type { AddressInfo } from 'node:net';
import express from 'express';
import { keygateExpress } from '../../src/adapters/express.js';
import { describeAuth, ROUTES, runTable, type StartApi } from './table.js';

export const startExpressApi: StartApi = async (options) => {
  const app = express();
  app.use(express.json());
  const auth = keygateExpress(options);
  for (const route of ROUTES) {
    app.all(route.path, auth.protect(route.policy), (req, res) => {
      res.json(describeAuth(req.auth));
    });
  }
  const server = await new Promise<import('node:http').Server>((resolve) => {
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

runTable('Express', startExpressApi);
