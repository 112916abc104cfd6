import { graphql } from './gql/index.ts';

export const OrderFields = graphql(`
  fragment OrderFields on Order {
    id
    customerName
    productName
    quantity
    status
    version
    createdAt
    updatedAt
  }
`);

export const OrdersPageQuery = graphql(`
  query OrdersPage($first: Int!, $after: String, $status: OrderStatus) {
    orders(first: $first, after: $after, status: $status) {
      changeCursor
      edges {
        cursor
        node {
          ...OrderFields
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`);

export const OrderChangedSubscription = graphql(`
  subscription OrderChanged($after: String) {
    orderChanged(after: $after) {
      cursor
      operation
      changedFields
      changedBy
      committedAt
      order {
        ...OrderFields
      }
      previous {
        customerName
        productName
        quantity
        status
        version
        createdAt
        updatedAt
      }
    }
  }
`);

export const CreateOrderMutation = graphql(`
  mutation CreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      ...OrderFields
    }
  }
`);

export const UpdateOrderMutation = graphql(`
  mutation UpdateOrder($id: ID!, $input: UpdateOrderInput!, $expectedVersion: Int) {
    updateOrder(id: $id, input: $input, expectedVersion: $expectedVersion) {
      ...OrderFields
    }
  }
`);

export const DeleteOrderMutation = graphql(`
  mutation DeleteOrder($id: ID!, $expectedVersion: Int) {
    deleteOrder(id: $id, expectedVersion: $expectedVersion) {
      ...OrderFields
    }
  }
`);

export const OrderQuery = graphql(`
  query Order($id: ID!) {
    order(id: $id) {
      ...OrderFields
    }
  }
`);
