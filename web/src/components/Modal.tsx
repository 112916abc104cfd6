import { type ReactNode, useEffect, useRef } from 'react';

interface Props {
  labelledBy: string;
  onClose(): void;
  children: ReactNode;
}

/** A native modal <dialog>: focus is trapped and restored by the browser, Escape closes it. */
export function Modal({ labelledBy, onClose, children }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    dialog?.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby={labelledBy}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {children}
    </dialog>
  );
}
