import type * as React from "react";
import { useState } from "react";
import { messageOf } from "@/api/client";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button, type ButtonProps } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";

interface ConfirmActionProps {
  /** The button that opens the confirmation. */
  label: string;
  title: string;
  description: React.ReactNode;
  confirmLabel?: string;
  variant?: ButtonProps["variant"];
  size?: ButtonProps["size"];
  /** Ask for a reason (or note) the API records with the action. */
  reason?: { label: string; required?: boolean };
  /** Extra fields, rendered above the reason. */
  children?: React.ReactNode;
  disabled?: boolean;
  onConfirm(reason: string): Promise<unknown>;
}

/**
 * Every destructive or money-moving action goes through this: a dialog that says what will happen, takes the
 * reason when the API wants one, and shows the API's own message when it refuses (the dialog stays open).
 */
export function ConfirmAction({
  label,
  title,
  description,
  confirmLabel,
  variant = "default",
  size = "sm",
  reason,
  children,
  disabled,
  onConfirm,
}: ConfirmActionProps) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const missing = reason?.required !== false && reason !== undefined && text.trim() === "";

  async function confirm(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onConfirm(text.trim());
      setOpen(false);
      setText("");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) setError(null);
      }}
    >
      <DialogTrigger asChild>
        <Button variant={variant} size={size} disabled={disabled}>
          {label}
        </Button>
      </DialogTrigger>
      <DialogContent>
        <form onSubmit={confirm} className="grid gap-4">
          <DialogHeader>
            <DialogTitle>{title}</DialogTitle>
            <DialogDescription>{description}</DialogDescription>
          </DialogHeader>
          {children}
          {reason && (
            <div className="grid gap-1.5">
              <Label htmlFor="confirm-reason">{reason.label}</Label>
              <Textarea id="confirm-reason" value={text} onChange={(e) => setText(e.target.value)} maxLength={500} />
            </div>
          )}
          {error ? (
            <Alert variant="destructive">
              <AlertDescription>{messageOf(error)}</AlertDescription>
            </Alert>
          ) : null}
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant={variant === "outline" ? "default" : variant} disabled={busy || missing}>
              {busy ? "Working…" : (confirmLabel ?? label)}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
