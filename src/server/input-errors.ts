import { type ASTNode, type DocumentNode, GraphQLError, Kind, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// graphql-js messages of the rules that check literal values and required arguments: the
// operation is well formed, only an input value is wrong.
const INPUT_MISTAKES = [
  /^Expected value of type "/,
  /^Expected type "/,
  / cannot represent /,
  /^Value "[^"]*" does not exist in "\w+" enum/,
  /^Field "\w+\.(\w+)" of required type "[^"]+" was not provided/,
  /^Field "(\w+)" is not defined by type "\w+"/,
  /^Field "\w+" argument "(\w+)" of type "[^"]+" is required, but it was not provided/,
];

/**
 * graphql-js refuses variables that do not fit their type (null for String!, an unknown enum value)
 * before any resolver runs, with a message but no code. They are input errors like any other, so
 * they get BAD_USER_INPUT and the field they name, e.g. `at "input.customerName"` -> customerName.
 * No path: raised before execution, so by graphql-js itself, never by a resolver.
 */
export function asVariableInputError(error: unknown): GraphQLError | undefined {
  if (!(error instanceof GraphQLError) || error.path) return undefined;
  const field = invalidVariableField(error.message);
  if (field === undefined) return undefined;
  return asBadUserInput(error, field);
}

function asBadUserInput(error: GraphQLError, field: string | undefined): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT', ...(field ? { field } : {}) },
  });
}

function invalidVariableField(message: string): string | undefined {
  const variable = /^Variable "\$(\w+)" /.exec(message)?.[1];
  if (variable === undefined) return undefined;
  const missing = /Field "(\w+)" of required type/.exec(message)?.[1];
  const path = / at "([^"]+)";/.exec(message)?.[1];
  return (
    missing ??
    path
      ?.replace(/\[\d+\]/g, '')
      .split('.')
      .at(-1) ??
    variable
  );
}

/**
 * A wrong input value written into the operation itself (`quantity: "two"`, `status: LOST`, a
 * required field left out) is the same mistake as a wrong variable: BAD_USER_INPUT, naming the
 * field, rather than the generic validation failure.
 */
export function useInputErrorCodes(): Plugin {
  return {
    onValidate({ params }) {
      return ({ result, setResult }) => {
        if (result.length === 0) return;
        setResult(result.map((error) => asInputError(error, params.documentAST)));
      };
    },
  };
}

function asInputError(error: unknown, document: DocumentNode): unknown {
  if (!(error instanceof GraphQLError)) return error;
  const match = INPUT_MISTAKES.map((pattern) => pattern.exec(error.message)).find(Boolean);
  if (!match) return error;
  return asBadUserInput(error, match[1] ?? fieldOf(error.nodes?.[0], document));
}

/** The name of the input field or argument whose value is `node`. */
function fieldOf(node: ASTNode | undefined, document: DocumentNode): string | undefined {
  if (!node) return undefined;
  let name: string | undefined;
  visit(document, {
    enter(candidate) {
      if (
        (candidate.kind === Kind.OBJECT_FIELD || candidate.kind === Kind.ARGUMENT) &&
        candidate.value === node
      ) {
        name = candidate.name.value;
      }
    },
  });
  return name;
}
