/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment OrderFields on Order {\n    id\n    customerName\n    productName\n    quantity\n    status\n    version\n    createdAt\n    updatedAt\n  }\n": typeof types.OrderFieldsFragmentDoc,
    "\n  query OrdersPage($first: Int!, $after: String, $status: OrderStatus) {\n    orders(first: $first, after: $after, status: $status) {\n      changeCursor\n      edges {\n        cursor\n        node {\n          ...OrderFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n  }\n": typeof types.OrdersPageDocument,
    "\n  subscription OrderChanged($after: String) {\n    orderChanged(after: $after) {\n      cursor\n      operation\n      changedFields\n      changedBy\n      committedAt\n      order {\n        ...OrderFields\n      }\n      previous {\n        customerName\n        productName\n        quantity\n        status\n        version\n        createdAt\n        updatedAt\n      }\n    }\n  }\n": typeof types.OrderChangedDocument,
    "\n  mutation CreateOrder($input: CreateOrderInput!) {\n    createOrder(input: $input) {\n      ...OrderFields\n    }\n  }\n": typeof types.CreateOrderDocument,
    "\n  mutation UpdateOrder($id: ID!, $input: UpdateOrderInput!, $expectedVersion: Int) {\n    updateOrder(id: $id, input: $input, expectedVersion: $expectedVersion) {\n      ...OrderFields\n    }\n  }\n": typeof types.UpdateOrderDocument,
    "\n  mutation DeleteOrder($id: ID!, $expectedVersion: Int) {\n    deleteOrder(id: $id, expectedVersion: $expectedVersion) {\n      ...OrderFields\n    }\n  }\n": typeof types.DeleteOrderDocument,
    "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n": typeof types.OrderDocument,
};
const documents: Documents = {
    "\n  fragment OrderFields on Order {\n    id\n    customerName\n    productName\n    quantity\n    status\n    version\n    createdAt\n    updatedAt\n  }\n": types.OrderFieldsFragmentDoc,
    "\n  query OrdersPage($first: Int!, $after: String, $status: OrderStatus) {\n    orders(first: $first, after: $after, status: $status) {\n      changeCursor\n      edges {\n        cursor\n        node {\n          ...OrderFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n  }\n": types.OrdersPageDocument,
    "\n  subscription OrderChanged($after: String) {\n    orderChanged(after: $after) {\n      cursor\n      operation\n      changedFields\n      changedBy\n      committedAt\n      order {\n        ...OrderFields\n      }\n      previous {\n        customerName\n        productName\n        quantity\n        status\n        version\n        createdAt\n        updatedAt\n      }\n    }\n  }\n": types.OrderChangedDocument,
    "\n  mutation CreateOrder($input: CreateOrderInput!) {\n    createOrder(input: $input) {\n      ...OrderFields\n    }\n  }\n": types.CreateOrderDocument,
    "\n  mutation UpdateOrder($id: ID!, $input: UpdateOrderInput!, $expectedVersion: Int) {\n    updateOrder(id: $id, input: $input, expectedVersion: $expectedVersion) {\n      ...OrderFields\n    }\n  }\n": types.UpdateOrderDocument,
    "\n  mutation DeleteOrder($id: ID!, $expectedVersion: Int) {\n    deleteOrder(id: $id, expectedVersion: $expectedVersion) {\n      ...OrderFields\n    }\n  }\n": types.DeleteOrderDocument,
    "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n": types.OrderDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrderFields on Order {\n    id\n    customerName\n    productName\n    quantity\n    status\n    version\n    createdAt\n    updatedAt\n  }\n"): (typeof documents)["\n  fragment OrderFields on Order {\n    id\n    customerName\n    productName\n    quantity\n    status\n    version\n    createdAt\n    updatedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OrdersPage($first: Int!, $after: String, $status: OrderStatus) {\n    orders(first: $first, after: $after, status: $status) {\n      changeCursor\n      edges {\n        cursor\n        node {\n          ...OrderFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n  }\n"): (typeof documents)["\n  query OrdersPage($first: Int!, $after: String, $status: OrderStatus) {\n    orders(first: $first, after: $after, status: $status) {\n      changeCursor\n      edges {\n        cursor\n        node {\n          ...OrderFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription OrderChanged($after: String) {\n    orderChanged(after: $after) {\n      cursor\n      operation\n      changedFields\n      changedBy\n      committedAt\n      order {\n        ...OrderFields\n      }\n      previous {\n        customerName\n        productName\n        quantity\n        status\n        version\n        createdAt\n        updatedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription OrderChanged($after: String) {\n    orderChanged(after: $after) {\n      cursor\n      operation\n      changedFields\n      changedBy\n      committedAt\n      order {\n        ...OrderFields\n      }\n      previous {\n        customerName\n        productName\n        quantity\n        status\n        version\n        createdAt\n        updatedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateOrder($input: CreateOrderInput!) {\n    createOrder(input: $input) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateOrder($input: CreateOrderInput!) {\n    createOrder(input: $input) {\n      ...OrderFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateOrder($id: ID!, $input: UpdateOrderInput!, $expectedVersion: Int) {\n    updateOrder(id: $id, input: $input, expectedVersion: $expectedVersion) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateOrder($id: ID!, $input: UpdateOrderInput!, $expectedVersion: Int) {\n    updateOrder(id: $id, input: $input, expectedVersion: $expectedVersion) {\n      ...OrderFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteOrder($id: ID!, $expectedVersion: Int) {\n    deleteOrder(id: $id, expectedVersion: $expectedVersion) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteOrder($id: ID!, $expectedVersion: Int) {\n    deleteOrder(id: $id, expectedVersion: $expectedVersion) {\n      ...OrderFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n"): (typeof documents)["\n  query Order($id: ID!) {\n    order(id: $id) {\n      ...OrderFields\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;