import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'urql';
import { App } from './App.tsx';
import { createDashboardClient } from './client.ts';
import './styles.css';

const { client, connection } = createDashboardClient();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <Provider value={client}>
      <App connection={connection} />
    </Provider>
  </StrictMode>,
);
