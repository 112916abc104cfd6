import { useSession } from '../session-context.ts';

/** Who is signed in and with which role; nothing while the server needs no token. */
export function SessionBadge({ onSignOut }: { onSignOut(): void }) {
  const session = useSession();
  if (!session.token) return null;
  return (
    <div className="session" data-role={session.role}>
      <span>
        <span className="visually-hidden">Signed in as </span>
        <strong>{session.subject ?? 'unknown'}</strong> · {session.role}
        {session.customer && <> ({session.customer})</>}
      </span>
      <button type="button" className="small" onClick={onSignOut}>
        Sign out
      </button>
    </div>
  );
}
