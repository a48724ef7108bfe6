// oidc-provider ships no type declarations; the benchmark's peer server uses it untyped.
declare module 'oidc-provider';
