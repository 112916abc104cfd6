import { type FormEvent, useState } from 'react';
import { probe } from '../auth.ts';

interface Props {
  /** Why the last token was refused, or why the session ended. */
  message?: string | undefined;
  onSignedIn(token: string): void;
}

/** Shown when the server needs a token: a JWT pasted here is checked by the server before use. */
export function SignIn({ message, onSignedIn }: Props) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState(message);
  const [checking, setChecking] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const value = token.trim().replace(/^Bearer\s+/i, '');
    if (!value) return;
    setChecking(true);
    try {
      const result = await probe(value);
      if (result.ok) return onSignedIn(value);
      setProblem(`The server refused this token: ${result.message}`);
    } catch {
      setProblem('The server cannot be reached. Check that it is running, then try again.');
    } finally {
      setChecking(false);
    }
  }

  return (
    <main className="signin">
      <h1>Realtime Orders</h1>
      <form className="panel" onSubmit={submit} aria-describedby="signin-help">
        <h2>Sign in</h2>
        <p id="signin-help">
          This server needs a token (a JWT). A developer can mint one with{' '}
          <code>npm run token -- --role writer</code>. It is kept for this browser tab only.
        </p>
        <label className="field">
          <span>Token</span>
          <input
            name="token"
            type="password"
            autoComplete="off"
            spellCheck={false}
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
        {problem && (
          <p className="alert" role="alert">
            {problem}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={checking}>
            {checking ? 'Checking…' : 'Sign in'}
          </button>
        </div>
      </form>
    </main>
  );
}
