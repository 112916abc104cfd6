import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'urql';
import { App } from './App.tsx';
import { forgetToken, probe, sessionOf, storedToken, storeToken } from './auth.ts';
import { createDashboardClient } from './client.ts';
import { SignIn } from './components/SignIn.tsx';
import { SessionContext } from './session-context.ts';
import './styles.css';

const element = document.getElementById('root');
if (!element) throw new Error('index.html has no #root');
const root = createRoot(element);

/** The dashboard, with the token the server accepted (none while it needs none). */
function start(token: string | null): void {
  const { client, ws, connection } = createDashboardClient(window.location.origin, {
    token,
    onRefused: () => {
      void ws.dispose();
      forgetToken();
      signIn('Your session has ended (the token expired or was refused). Sign in again.');
    },
  });
  const signOut = () => {
    void ws.dispose();
    forgetToken();
    signIn();
  };
  root.render(
    <StrictMode>
      <SessionContext.Provider value={sessionOf(token)}>
        <Provider value={client}>
          <App connection={connection} onSignOut={signOut} />
        </Provider>
      </SessionContext.Provider>
    </StrictMode>,
  );
}

function signIn(message?: string): void {
  root.render(
    <StrictMode>
      <SignIn
        message={message}
        onSignedIn={(token) => {
          storeToken(token);
          start(token);
        }}
      />
    </StrictMode>,
  );
}

// Does the server need a token, and is the one kept for this tab still good?
const token = storedToken();
probe(token).then(
  (answer) => {
    if (answer.ok) return start(token);
    forgetToken();
    signIn(token ? `The server refused the saved token: ${answer.message}` : undefined);
  },
  // The server is down: the dashboard shows it reconnecting.
  () => start(token),
);
