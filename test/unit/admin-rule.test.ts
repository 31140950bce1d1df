import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAdministrator } from '../../src/policy/admin.js';

const nobody = { email: undefined, emailVerified: undefined, scopes: [], permissions: [] };

describe('isAdministrator', () => {
  const rule = { users: ['ops@example.com', '@admins.example'], scope: 'admin:sessions' };

  it('a listed e-mail or domain counts only when verified', () => {
    assert.equal(isAdministrator(rule, { ...nobody, email: 'OPS@example.com', emailVerified: true }), true);
    assert.equal(isAdministrator(rule, { ...nobody, email: 'eve@admins.example', emailVerified: true }), true);
    assert.equal(isAdministrator(rule, { ...nobody, email: 'eve@admins.example', emailVerified: false }), false);
    assert.equal(isAdministrator(rule, { ...nobody, email: 'ops@example.com', emailVerified: undefined }), false);
    assert.equal(isAdministrator(rule, { ...nobody, email: 'eve@sub.admins.example', emailVerified: true }), false, 'a subdomain is another domain');
    assert.equal(isAdministrator(rule, { ...nobody, email: 'eve@evil-admins.example', emailVerified: true }), false);
  });

  it('the admin scope or permission counts, whatever the e-mail', () => {
    assert.equal(isAdministrator(rule, { ...nobody, scopes: ['openid', 'admin:sessions'] }), true);
    assert.equal(isAdministrator(rule, { ...nobody, permissions: ['admin:sessions'] }), true);
    assert.equal(isAdministrator(rule, { ...nobody, scopes: ['admin'] }), false);
  });

  it('without ADMIN_USERS and ADMIN_SCOPE, nobody', () => {
    assert.equal(isAdministrator({ users: [], scope: undefined }, { email: 'ops@example.com', emailVerified: true, scopes: ['admin:sessions'], permissions: [] }), false);
  });
});
