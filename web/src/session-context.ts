import { createContext, useContext } from 'react';
import { OPEN_SESSION, type Session } from './auth.ts';

export const SessionContext = createContext<Session>(OPEN_SESSION);

/** The signed-in token's role and customer, to hide what the server would refuse anyway. */
export const useSession = () => useContext(SessionContext);
