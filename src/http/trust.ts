import { BlockList, isIP } from 'node:net';
import type { ServerConfig } from '../config/types.js';

/**
 * Whether the immediate peer is a proxy `TRUST_PROXY` trusts, as Fastify decides it for `request.host` and
 * `request.protocol` (hop 0 of its trust function): only such a peer may say, in `X-Forwarded-Host` and
 * `X-Forwarded-Proto`, where the original request went.
 */
export function trustedPeer(setting: ServerConfig['trustProxy']): (address: string | undefined) => boolean {
  if (setting === true) return () => true;
  if (setting === false) return () => false;
  if (typeof setting === 'number') return () => setting > 0;
  const list = new BlockList();
  for (const entry of setting) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    if (address === undefined) return false;
    // An IPv4 peer on a dual-stack socket is reported as ::ffff:a.b.c.d.
    const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
}
