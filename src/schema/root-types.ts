import { builder } from './builder.ts';

// The root types are empty here; each type file adds its own fields to them.
builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
