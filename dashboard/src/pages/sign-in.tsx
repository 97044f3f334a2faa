import { useNavigate } from "@tanstack/react-router";
import { Banknote } from "lucide-react";
import { QRCodeSVG } from "qrcode.react";
import type * as React from "react";
import { useState } from "react";
import { API_URL, errorOf, signIn } from "@/auth/session";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

/**
 * Email, password and the authenticator's 6-digit code (each code works once). A new admin who has never
 * signed in asks for their authenticator's QR with email and password first (POST /admin/v1/auth/totp-setup).
 */
export function SignInPage() {
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [setup, setSetup] = useState<{ otpauthUrl: string; secret: string } | null>(null);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn({ email, password, totp });
      await navigate({ to: "/" });
    } catch (e) {
      setError(e instanceof Error ? e.message : "Could not sign in.");
      setTotp("");
    } finally {
      setBusy(false);
    }
  }

  async function firstSignIn() {
    setError(null);
    if (!email || !password) {
      setError("Type your email and the password you were given first.");
      return;
    }
    setBusy(true);
    try {
      const response = await fetch(`${API_URL}/admin/v1/auth/totp-setup`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email, password }),
      });
      if (!response.ok) throw await errorOf(response);
      const body = (await response.json()) as { otpauthUrl: string };
      setSetup({ otpauthUrl: body.otpauthUrl, secret: new URL(body.otpauthUrl).searchParams.get("secret") ?? "" });
    } catch (e) {
      setError(e instanceof Error ? e.message : "Could not set up the authenticator.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-screen items-center justify-center bg-muted/40 p-4">
      <Card className="w-full max-w-sm">
        <CardHeader>
          <div className="flex items-center gap-2 font-semibold text-primary">
            <Banknote className="size-5" aria-hidden /> Keshless
          </div>
          <h1 className="text-base font-semibold leading-none">Sign in to the dashboard</h1>
          <CardDescription>Staff only. Every action is recorded in the audit log.</CardDescription>
        </CardHeader>
        <CardContent>
          <form onSubmit={submit} className="grid gap-3">
            <div className="grid gap-1.5">
              <Label htmlFor="email">Email</Label>
              <Input
                id="email"
                type="email"
                autoComplete="username"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            </div>
            <div className="grid gap-1.5">
              <Label htmlFor="password">Password</Label>
              <Input
                id="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </div>
            {setup && (
              <div className="grid justify-items-center gap-2 rounded-md border p-3 text-center text-sm">
                <p>Scan this with your authenticator app, then type the code it shows.</p>
                <QRCodeSVG value={setup.otpauthUrl} size={176} title="Authenticator QR code" marginSize={2} />
                <p className="text-xs text-muted-foreground">
                  Or enter the key by hand: <code className="break-all">{setup.secret}</code>
                </p>
              </div>
            )}
            <div className="grid gap-1.5">
              <Label htmlFor="totp">Authenticator code</Label>
              <Input
                id="totp"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="\d{6}"
                maxLength={6}
                required
                value={totp}
                onChange={(e) => setTotp(e.target.value.replace(/\D/g, ""))}
              />
            </div>
            {error && (
              <Alert variant="destructive">
                <AlertDescription>{error}</AlertDescription>
              </Alert>
            )}
            <Button type="submit" disabled={busy}>
              {busy ? "Signing in…" : "Sign in"}
            </Button>
            {!setup && (
              <Button type="button" variant="link" onClick={firstSignIn} disabled={busy}>
                First sign-in? Set up your authenticator
              </Button>
            )}
          </form>
        </CardContent>
      </Card>
    </main>
  );
}
